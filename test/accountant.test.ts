import { expect } from 'chai';
import {
  AccountantError,
  computeEpsilon,
  computeRdp,
  noiseMultiplierForEpsilon,
  RDP_ORDERS,
  rdpSubsampledGaussian,
} from '../server/dp/rdp-accountant';
import { logErfc } from '../server/dp/log-math';
import { privacyAfterRounds } from '../server/dp/privacy';

/** The conversion written out independently of the accountant, for the q = 1 closed form. */
function closedFormEpsilon(z: number, steps: number, delta: number): number {
  let best = Infinity;
  for (const a of RDP_ORDERS) {
    const rdp = (steps * a) / (2 * z * z);
    best = Math.min(best, rdp + Math.log(1 - 1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1));
  }
  return Math.max(0, best);
}

describe('RDP accountant', () => {
  it('has the 156 orders of the reference grid', () => {
    expect(RDP_ORDERS).to.have.length(99 + 53 + 4);
    expect(RDP_ORDERS[0]).to.equal(1.1);
    expect(RDP_ORDERS[98]).to.equal(10.9);
    expect(RDP_ORDERS.slice(99, 101)).to.deep.equal([11, 12]);
    expect(RDP_ORDERS.slice(-5)).to.deep.equal([63, 128, 256, 512, 1024]);
  });

  it('golden vector: z=3, q=0.2, 50 steps, delta=1/48000 gives epsilon 2.16 ± 0.02', () => {
    const { epsilon } = computeEpsilon(3, 0.2, 50, 1 / 48000);
    expect(epsilon).to.be.closeTo(2.16, 0.02);
  });

  it('log erfc matches known values, including far in the tail where erfc underflows', () => {
    expect(Math.exp(logErfc(1))).to.be.closeTo(0.157299207050285, 1e-14);
    expect(Math.exp(logErfc(-1))).to.be.closeTo(1.842700792949715, 1e-14);
    expect(Math.exp(logErfc(3)) / 2.209049699858544e-5).to.be.closeTo(1, 1e-12);
    expect(Math.exp(logErfc(10)) / 2.088487583762545e-45).to.be.closeTo(1, 1e-12);
    // erfc(30) ≈ 2.5646e-393: log erfc(x) ≈ −x² − log(x√π) − 1/(2x²)
    expect(logErfc(30)).to.be.closeTo(-900 - Math.log(30 * Math.sqrt(Math.PI)) - 1 / 1800, 1e-6);
  });

  it('integer orders (binomial expansion) and fractional orders (series) agree across the seam', () => {
    for (const [q, z] of [
      [0.2, 3],
      [0.01, 1.1],
      [0.5, 0.7],
    ]) {
      for (const a of [2, 3, 10, 32]) {
        const exact = rdpSubsampledGaussian(q, z, a);
        const nearby = rdpSubsampledGaussian(q, z, a + 1e-7);
        expect(Math.abs(nearby - exact) / exact, `q=${q} z=${z} alpha=${a}`).to.be.below(1e-5);
      }
    }
  });

  it('matches the order-2 closed form log(1 + q²(e^{1/z²} − 1))', () => {
    const q = 0.2;
    const z = 3;
    expect(rdpSubsampledGaussian(q, z, 2)).to.be.closeTo(Math.log(1 + q * q * Math.expm1(1 / (z * z))), 1e-14);
  });

  it('q = 1 equals the Gaussian mechanism: RDP alpha/(2z²) per step, then the same conversion', () => {
    for (const z of [0.8, 2, 5]) {
      const rdp = computeRdp(1, z, 7);
      rdp.forEach((r, k) => expect(r).to.be.closeTo((7 * RDP_ORDERS[k]) / (2 * z * z), 1e-9));
      expect(computeEpsilon(z, 1, 7, 1e-5).epsilon).to.be.closeTo(closedFormEpsilon(z, 7, 1e-5), 1e-12);
      // The general subsampled formula tends to the same value as q → 1.
      expect(computeEpsilon(z, 1 - 1e-9, 7, 1e-5).epsilon).to.be.closeTo(closedFormEpsilon(z, 7, 1e-5), 1e-4);
    }
  });

  it('epsilon decreases in z and increases in q and in steps', () => {
    const base = { z: 1.5, q: 0.05, steps: 100, delta: 1e-5 };
    const e = (z: number, q: number, steps: number): number => computeEpsilon(z, q, steps, base.delta).epsilon;
    const zs = [0.6, 0.9, 1.5, 3, 8];
    const qs = [0.001, 0.01, 0.05, 0.3, 1];
    const ts = [1, 10, 100, 1000];
    const strictlyDecreasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x < xs[i - 1]);
    expect(strictlyDecreasing(zs.map((z) => e(z, base.q, base.steps)))).to.equal(true);
    expect(strictlyDecreasing(qs.map((q) => -e(base.z, q, base.steps)))).to.equal(true);
    expect(strictlyDecreasing(ts.map((t) => -e(base.z, base.q, t)))).to.equal(true);
  });

  it('rejects invalid inputs with an AccountantError naming the parameter and value', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => computeEpsilon(0, 0.2, 50, 1e-5), /noise multiplier z .*got 0/],
      [() => computeEpsilon(-1, 0.2, 50, 1e-5), /noise multiplier z .*got -1/],
      [() => computeEpsilon(1, 0, 50, 1e-5), /sample rate q must be in \(0, 1\], got 0/],
      [() => computeEpsilon(1, 1.5, 50, 1e-5), /sample rate q .*got 1\.5/],
      [() => computeEpsilon(1, 0.2, 50, 0), /delta must be in \(0, 1\), got 0/],
      [() => computeEpsilon(1, 0.2, 50, 1), /delta .*got 1/],
      [() => computeEpsilon(1, 0.2, 2.5, 1e-5), /steps must be a positive integer, got 2\.5/],
      [() => computeEpsilon(1, 0.2, 0, 1e-5), /steps .*got 0/],
      [() => computeEpsilon(NaN, 0.2, 10, 1e-5), /noise multiplier z .*got NaN/],
      [() => noiseMultiplierForEpsilon(-2, 0.2, 50, 1e-5), /target epsilon .*got -2/],
    ];
    for (const [fn, message] of cases) {
      expect(fn).to.throw(AccountantError, message);
      try {
        fn();
      } catch (err) {
        expect((err as Error).name).to.equal('AccountantError');
      }
    }
  });

  it('solving for z round-trips: the solved z meets the target, and 0.1% less noise does not', () => {
    for (const [target, q, steps, delta] of [
      [2.16, 0.2, 50, 1 / 48000],
      [1, 0.01, 1000, 1e-5],
      [8, 1, 1, 1e-5],
    ]) {
      const z = noiseMultiplierForEpsilon(target, q, steps, delta);
      expect(computeEpsilon(z, q, steps, delta).epsilon).to.be.at.most(target);
      expect(computeEpsilon(z * 0.999, q, steps, delta).epsilon).to.be.above(target);
    }
    expect(noiseMultiplierForEpsilon(computeEpsilon(3, 0.2, 50, 1 / 48000).epsilon, 0.2, 50, 1 / 48000)).to.be.closeTo(3, 1e-4);
  });

  it('reports an unreachable target instead of looping', () => {
    expect(() => noiseMultiplierForEpsilon(1e-4, 0.5, 10, 1e-5)).to.throw(AccountantError, /unreachable/);
  });

  it('privacyAfterRounds fills the per-round privacy record', () => {
    const rec = privacyAfterRounds({ clippingNorm: 1, noiseMultiplier: 3, delta: 1 / 48000 }, 0.2, 50);
    expect(rec).to.deep.equal({
      epsilon: computeEpsilon(3, 0.2, 50, 1 / 48000).epsilon,
      delta: 1 / 48000,
      noiseMultiplier: 3,
      sampleRate: 0.2,
      steps: 50,
    });
    // No noise: no guarantee at all.
    expect(privacyAfterRounds({ clippingNorm: 1, noiseMultiplier: 0, delta: 1e-5 }, 0.2, 5).epsilon).to.equal(Infinity);
  });
});
