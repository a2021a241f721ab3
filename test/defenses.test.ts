import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { applyClientDefenses, clientDefensePlan } from '../client/mods';
import { roundToFloat16 } from '../client/mods/fp16';
import { l2Norm } from '../client/mods/segments';
import { dpAggregate } from '../server/dp/aggregate';
import { strategyFor } from '../server/strategy';
import { MODEL_DEFINITION_FORMAT, type ModelDefinition } from '../shared/models/definition';
import { computeEpsilon } from '../server/dp/rdp-accountant';
import { validateScenario } from '../server/scenario/load';
import { Rng } from '../shared/random';
import { defensesSchema, type DefensesConfig } from '../server/scenario/schema';
import type { ParamSpec } from '../shared/models/types';
import type { RunResults } from '../server/report/results';
import { sweepRow, sweepVariants, withAccuracyCost } from '../server/run/sweep';
import { loadScenario } from '../server/scenario/load';

/** A defences section as a scenario would give it (defaults filled by the schema). */
function defenses(section: Record<string, unknown>): DefensesConfig {
  return defensesSchema.parse(section);
}

function randomUpdate(n: number, seed: number, std = 0.1): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n), 0, std);
}

function countZeros(values: Float32Array): number {
  return values.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
}

function meanAndVariance(values: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i] - mean) ** 2;
  return { mean, variance: ss / (values.length - 1) };
}

const SPECS: ParamSpec[] = [
  { name: 'a/kernel', shape: [10, 30] },
  { name: 'a/bias', shape: [30] },
  { name: 'b/kernel', shape: [30, 7] },
  { name: 'b/bias', shape: [7] },
];
const SPEC_SIZES = [300, 30, 210, 7];

describe('client defences', () => {
  it('never mutates the input update', () => {
    const u = randomUpdate(547, 1);
    const copy = u.slice();
    applyClientDefenses(
      u,
      defenses({ clipping: { norm: 0.1 }, pruning: { fraction: 0.5 }, noise: { variance: 1e-2 }, quantization: { bits: 8 } }),
      new Rng(2),
      SPECS,
    );
    expect(Array.from(u)).to.deep.equal(Array.from(copy));
  });

  describe('clipping', () => {
    it('bounds the L2 norm of a large update at the clipping norm, keeping its direction', () => {
      const u = randomUpdate(1000, 3, 1); // norm ≈ 31.6
      const { update, report } = applyClientDefenses(u, defenses({ clipping: { norm: 2 } }), new Rng(0));
      expect(l2Norm(update)).to.be.closeTo(2, 2e-6);
      expect(report.clipping.normBefore).to.be.closeTo(l2Norm(u), 1e-9);
      expect(report.clipping.clipped).to.equal(1);
      const ratio = update[7] / u[7];
      for (let i = 0; i < u.length; i += 97) expect(update[i] / u[i]).to.be.closeTo(ratio, 1e-6);
    });

    it('leaves an update already within the norm bit-for-bit unchanged', () => {
      const u = randomUpdate(1000, 4, 0.01); // norm ≈ 0.32
      const { update, report } = applyClientDefenses(u, defenses({ clipping: { norm: 1 } }), new Rng(0));
      expect(Array.from(update)).to.deep.equal(Array.from(u));
      expect(report.clipping.clipped).to.equal(0);
    });
  });

  describe('pruning', () => {
    it('zeroes exactly round(fraction · size) entries in every tensor, the smallest in magnitude', () => {
      const u = randomUpdate(547, 5);
      for (const fraction of [0.1, 0.2, 0.3, 0.5, 0.7, 1]) {
        const { update, report } = applyClientDefenses(u, defenses({ pruning: { fraction } }), new Rng(0), SPECS);
        let offset = 0;
        let expectedTotal = 0;
        SPEC_SIZES.forEach((size) => {
          const before = u.subarray(offset, offset + size);
          const after = update.subarray(offset, offset + size);
          const k = Math.round(fraction * size);
          expectedTotal += k;
          expect(countZeros(after), `fraction ${fraction}, tensor at ${offset}`).to.equal(k);
          // Every surviving entry is unchanged and at least as large as every pruned one.
          let maxPruned = 0;
          let minKept = Infinity;
          for (let i = 0; i < size; i++) {
            if (after[i] === 0) maxPruned = Math.max(maxPruned, Math.abs(before[i]));
            else {
              expect(after[i]).to.equal(before[i]);
              minKept = Math.min(minKept, Math.abs(before[i]));
            }
          }
          expect(maxPruned).to.be.at.most(minKept);
          offset += size;
        });
        expect(report.pruning.zeroed).to.equal(expectedTotal);
      }
    });

    it('zeroes exactly the fraction when magnitudes tie, lowest indices first', () => {
      // 10 entries of equal magnitude (mixed signs) and 10 larger ones; prune 30% = 6.
      const u = new Float32Array([
        ...Array.from({ length: 10 }, (_, i) => (i % 2 ? 0.5 : -0.5)),
        ...Array.from({ length: 10 }, (_, i) => 1 + i),
      ]);
      const { update } = applyClientDefenses(u, defenses({ pruning: { fraction: 0.3 } }), new Rng(0));
      expect(countZeros(update)).to.equal(6);
      expect(Array.from(update.subarray(0, 10))).to.deep.equal([0, 0, 0, 0, 0, 0, -0.5, 0.5, -0.5, 0.5]);
    });

    it('treats the update as one tensor without specs', () => {
      const u = new Float32Array([5, 4, 3, 2, 1, 0.5, 0.25, 0.125, 10, 20]);
      const { update } = applyClientDefenses(u, defenses({ pruning: { fraction: 0.5 } }), new Rng(0));
      expect(Array.from(update)).to.deep.equal([5, 4, 3, 0, 0, 0, 0, 0, 10, 20]);
    });
  });

  describe('quantization', () => {
    it('fp16 rounds to nearest even, with subnormals and overflow like IEEE binary16', () => {
      expect(roundToFloat16(1)).to.equal(1);
      expect(roundToFloat16(1 + 2 ** -11)).to.equal(1); // halfway: ties to even (1.0)
      expect(roundToFloat16(1 + 3 * 2 ** -11)).to.equal(1 + 2 ** -9); // halfway: ties to even (…10)
      expect(roundToFloat16(1 + 2 ** -11 + 2 ** -20)).to.equal(1 + 2 ** -10); // just above halfway
      expect(roundToFloat16(0.1)).to.equal(0.0999755859375); // 0x2E66
      expect(roundToFloat16(-2.5)).to.equal(-2.5);
      expect(roundToFloat16(65504)).to.equal(65504);
      expect(roundToFloat16(65519)).to.equal(65504);
      expect(roundToFloat16(65520)).to.equal(Infinity);
      expect(roundToFloat16(-1e6)).to.equal(-Infinity);
      expect(roundToFloat16(2 ** -24)).to.equal(2 ** -24); // smallest subnormal
      expect(roundToFloat16(2 ** -25)).to.equal(0); // halfway to 0: ties to even
      expect(roundToFloat16(1.5 * 2 ** -24)).to.equal(2 ** -23);
      expect(roundToFloat16(3e-5)).to.equal(503 * 2 ** -24); // subnormal 3e-5 / 2^-24 = 503.3
    });

    it('fp16 relative error is at most 2^-11 in the normal range', () => {
      const u = randomUpdate(20000, 6, 1);
      const { update, report } = applyClientDefenses(u, defenses({ quantization: { bits: 16 } }), new Rng(0));
      let worst = 0;
      for (let i = 0; i < u.length; i++) {
        if (Math.abs(u[i]) < 2 ** -14) continue;
        worst = Math.max(worst, Math.abs(update[i] - u[i]) / Math.abs(u[i]));
        expect(roundToFloat16(update[i])).to.equal(update[i]); // the value is an fp16 value
      }
      expect(worst).to.be.at.most(2 ** -11);
      expect(worst).to.be.above(2 ** -12); // it really rounded (float32 alone would be ~2^-24)
      expect(report.quantization.overflowed).to.equal(0);
    });

    it('int8 error is at most half the per-tensor scale, with at most 255 levels per tensor', () => {
      // Tensors of very different magnitude: a global scale would flatten the small one to 0.
      const u = randomUpdate(547, 7, 1);
      for (let i = 300; i < 330; i++) u[i] *= 1e-3;
      const { update, report } = applyClientDefenses(u, defenses({ quantization: { bits: 8 } }), new Rng(0), SPECS);
      let offset = 0;
      for (const size of SPEC_SIZES) {
        const before = u.subarray(offset, offset + size);
        const after = update.subarray(offset, offset + size);
        const scale = before.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
        const levels = new Set<number>();
        for (let i = 0; i < size; i++) {
          expect(Math.abs(after[i] - before[i])).to.be.at.most(scale / 2 + Math.abs(before[i]) * 2 ** -23);
          levels.add(Math.round(after[i] / scale));
          expect(Math.abs(after[i] / scale - Math.round(after[i] / scale))).to.be.below(1e-4);
        }
        expect(levels.size).to.be.at.most(255);
        expect(countZeros(after)).to.be.below(size / 2);
        offset += size;
      }
      expect(report.quantization.maxAbsError).to.be.above(0);
    });
  });

  describe('noise', () => {
    const N = 200000;
    for (const mechanism of ['gaussian', 'laplace'] as const) {
      it(`${mechanism}: mean 0 and the configured variance over many seeded draws`, () => {
        const variance = 1e-2;
        const zero = new Float32Array(N);
        const { update } = applyClientDefenses(zero, defenses({ noise: { mechanism, variance } }), new Rng(11));
        const stats = meanAndVariance(update);
        // Standard error of the mean: √(v/N) ≈ 2.2e-4; of the variance: ≈ v·√(2/N) (Gaussian) to
        // v·√(5/N) (Laplace, kurtosis 6) ≈ 5e-5.
        expect(stats.mean).to.be.closeTo(0, 1e-3);
        expect(stats.variance).to.be.closeTo(variance, 3e-4);
        // The shape: Laplace has excess kurtosis 3, Gaussian 0.
        let m4 = 0;
        for (let i = 0; i < N; i++) m4 += update[i] ** 4;
        const kurtosis = m4 / N / stats.variance ** 2;
        expect(kurtosis).to.be.closeTo(mechanism === 'gaussian' ? 3 : 6, 0.3);
      });
    }

    it('is reproducible from the seed and differs between seeds', () => {
      const u = randomUpdate(100, 8);
      const cfg = defenses({ noise: { variance: 1e-3 } });
      const a = applyClientDefenses(u, cfg, new Rng(5)).update;
      const b = applyClientDefenses(u, cfg, new Rng(5)).update;
      const c = applyClientDefenses(u, cfg, new Rng(6)).update;
      expect(Array.from(a)).to.deep.equal(Array.from(b));
      expect(Array.from(a)).not.to.deep.equal(Array.from(c));
    });
  });

  describe('pipeline', () => {
    it('runs the configured defences in defenses.order, and the order changes the result', () => {
      const u = randomUpdate(547, 9, 1);
      const base = { clipping: { norm: 1 }, quantization: { bits: 8 } };
      const clipThenQuantise = applyClientDefenses(u, defenses({ ...base, order: ['clipping', 'quantization'] }), new Rng(0), SPECS);
      const quantiseThenClip = applyClientDefenses(u, defenses({ ...base, order: ['quantization', 'clipping'] }), new Rng(0), SPECS);
      expect(Object.keys(clipThenQuantise.report)).to.deep.equal(['clipping', 'quantization']);
      expect(Object.keys(quantiseThenClip.report)).to.deep.equal(['quantization', 'clipping']);
      // Quantising last leaves values on the int8 grid (norm slightly off 1); clipping last
      // gives norm 1 exactly but values off the grid.
      expect(l2Norm(quantiseThenClip.update)).to.be.closeTo(1, 1e-6);
      expect(Math.abs(l2Norm(clipThenQuantise.update) - 1)).to.be.above(1e-5);
      // Noise before pruning leaves exact zeros; pruning before noise does not.
      const np = { pruning: { fraction: 0.5 }, noise: { variance: 1e-4 } };
      const pruneLast = applyClientDefenses(u, defenses({ ...np, order: ['noise', 'pruning'] }), new Rng(1), SPECS).update;
      const noiseLast = applyClientDefenses(u, defenses({ ...np, order: ['pruning', 'noise'] }), new Rng(1), SPECS).update;
      expect(countZeros(pruneLast)).to.equal(274);
      expect(countZeros(noiseLast)).to.equal(0);
    });

    it('the default order is clipping, pruning, noise, quantization and skips unset defences', () => {
      expect(clientDefensePlan(defenses({ quantization: { bits: 16 }, noise: { variance: 1 }, clipping: { norm: 1 } }))).to.deep.equal([
        'clipping',
        'noise',
        'quantization',
      ]);
      const { update, report } = applyClientDefenses(randomUpdate(10, 1), defenses({}), new Rng(0));
      expect(report).to.deep.equal({});
      expect(update).to.have.length(10);
    });

    it('rejects a set defence missing from the order, and a name listed twice', () => {
      expect(() =>
        applyClientDefenses(new Float32Array(4), defenses({ noise: { variance: 1 }, order: ['clipping'] }), new Rng(0)),
      ).to.throw(/defenses\.noise is set but defenses\.order \[clipping\] does not list it/);
      expect(() => clientDefensePlan(defenses({ order: ['noise', 'noise'] }))).to.throw(/lists "noise" twice/);
    });

    it('rejects specs that do not match the update length', () => {
      expect(() => applyClientDefenses(new Float32Array(10), defenses({ pruning: { fraction: 0.5 } }), new Rng(0), SPECS)).to.throw(
        /update has 10 values but the model's parameter specs add up to 547/,
      );
    });
  });
});

describe('DP-FedAvg aggregation', () => {
  const C = 0.5;

  it('clips every update to the norm, averages unweighted, and adds no noise at z = 0', () => {
    const updates = [randomUpdate(300, 1, 1), randomUpdate(300, 2, 0.001), randomUpdate(300, 3, 1)];
    const { aggregate, clippedUpdates, report } = dpAggregate(
      updates.map((update, i) => ({ update, weight: 10 ** i })),
      { clippingNorm: C, noiseMultiplier: 0, delta: 1e-5 },
      new Rng(0),
    );
    clippedUpdates.forEach((c) => expect(l2Norm(c)).to.be.at.most(C * (1 + 1e-6)));
    expect(Array.from(clippedUpdates[1])).to.deep.equal(Array.from(updates[1])); // small: untouched
    expect(report.clipped).to.equal(2);
    for (let i = 0; i < 300; i += 37) {
      const mean = (clippedUpdates[0][i] + clippedUpdates[1][i] + clippedUpdates[2][i]) / 3;
      expect(aggregate[i]).to.be.closeTo(mean, 1e-7);
    }
    expect(l2Norm(aggregate)).to.be.at.most(C);
  });

  it('adds N(0, (zC)²) to the sum: the mean carries noise of std zC/n', () => {
    const n = 4;
    const z = 1.3;
    const size = 50000;
    const zeros = Array.from({ length: n }, () => ({ update: new Float32Array(size), weight: 1 }));
    const { aggregate, report } = dpAggregate(zeros, { clippingNorm: C, noiseMultiplier: z, delta: 1e-5 }, new Rng(17));
    const stats = meanAndVariance(aggregate);
    const expectedStd = (z * C) / n;
    expect(report.noiseStd).to.equal(z * C);
    expect(stats.mean).to.be.closeTo(0, (5 * expectedStd) / Math.sqrt(size));
    expect(Math.sqrt(stats.variance) / expectedStd).to.be.closeTo(1, 0.02);
  });

  it('divides by the clients selected, not those that answered, and records privacy per round', () => {
    const scenario = validateScenario(
      {
        name: 'dp',
        federation: { clients: 10, clientsPerRound: 4 },
        defenses: { dp: { clippingNorm: 1, noiseMultiplier: 0.8, delta: 1e-5 } },
      },
      'test',
    );
    const ones = new Float32Array(100).fill(0.05); // norm 0.5: not clipped
    const noNoise = { ...scenario, defenses: { ...scenario.defenses, dp: { clippingNorm: 1, noiseMultiplier: 0, delta: 1e-5 } } };
    // Server-side DP-FedAvg is the DP wrapper around the scenario's strategy (fedsgd: θ ← θ − lr · mean).
    const model: ModelDefinition = {
      format: MODEL_DEFINITION_FORMAT,
      name: 'bare-vector',
      inputShape: [1, 1, 1],
      numClasses: 1,
      layers: [],
      params: [{ name: 'v', shape: [100] }],
    };
    const aggregate = (s: typeof scenario, round: number, numExamples: number[]) => {
      const strategy = strategyFor({ scenario: s, model });
      const ctx = { round, globalParams: new Float32Array(100), selected: ['c0', 'c1', 'c2', 'c3'] };
      const updates = numExamples.map((n, i) => ({ clientId: `c${i}`, round, update: ones, numExamples: n, frameBytes: 0 }));
      return strategy.aggregate(ctx, strategy.configure(ctx), updates);
    };
    const quiet = aggregate(noNoise, 1, [1, 5]);
    expect(-quiet.params[0] / scenario.federation.learningRate).to.be.closeTo((2 * 0.05) / 4, 1e-7);
    const { privacy } = aggregate(scenario, 3, [1]);
    expect(privacy).to.deep.equal({
      epsilon: computeEpsilon(0.8, 0.4, 3, 1e-5).epsilon,
      delta: 1e-5,
      noiseMultiplier: 0.8,
      sampleRate: 0.4,
      steps: 3,
    });
  });

  it('rejects updates of different lengths and an empty round', () => {
    const cfg = { clippingNorm: 1, noiseMultiplier: 1, delta: 1e-5 };
    expect(() => dpAggregate([], cfg, new Rng(0))).to.throw(/no client updates/);
    expect(() =>
      dpAggregate(
        [
          { update: new Float32Array(3), weight: 1 },
          { update: new Float32Array(4), weight: 1 },
        ],
        cfg,
        new Rng(0),
      ),
    ).to.throw(/update 1 has 4 values, update 0 has 3/);
  });
});

describe('defence sweeps', () => {
  it('builds every built-in study as validated variants, the undefended one first', () => {
    const noise = sweepVariants(loadScenario('defense-noise-sweep'));
    expect(noise.map((v) => v.label)).to.deep.equal([
      'none',
      ...['gaussian', 'laplace'].flatMap((m) => ['1e-4', '1e-3', '1e-2', '1e-1'].map((v) => `${m}-${v}`)),
    ]);
    expect(noise[0].loaded.scenario.defenses.noise).to.equal(undefined);
    expect(noise[7].loaded.scenario.defenses.noise).to.deep.equal({ mechanism: 'laplace', variance: 1e-2 });
    noise.forEach((v) => {
      expect(v.loaded.scenario.sweep).to.equal(undefined);
      expect(v.loaded.scenario.attack).to.include({ name: 'dlg', iterations: 300 });
      expect(v.loaded.scenario.federation.batchSize).to.equal(1);
      expect(v.loaded.scenario.model.name).to.equal('lenet-zhu');
    });
    expect(
      sweepVariants(loadScenario('defense-quantization-sweep')).map((v) => v.loaded.scenario.defenses.quantization?.bits),
    ).to.deep.equal([undefined, 16, 8]);
    expect(sweepVariants(loadScenario('defense-pruning-sweep')).map((v) => v.loaded.scenario.defenses.pruning?.fraction)).to.deep.equal([
      undefined,
      0.1,
      0.2,
      0.3,
      0.5,
      0.7,
    ]);
    // The combined study is the three sweeps' rows, the undefended one once.
    const labels = (name: string) => sweepVariants(loadScenario(name)).map((v) => v.label);
    expect(labels('defense-study')).to.deep.equal([
      ...labels('defense-noise-sweep'),
      ...labels('defense-quantization-sweep').slice(1),
      ...labels('defense-pruning-sweep').slice(1),
    ]);
  });

  it('rejects a bad variant before anything runs, naming the variant', () => {
    const set = (sweep: unknown) => [`sweep=${JSON.stringify(sweep)}`];
    expect(() =>
      sweepVariants(loadScenario('defense-noise-sweep', set([{ label: 'a', set: { 'defenses.noise.variance': -1 } }]))),
    ).to.throw(/sweep variant "a"[\s\S]*defenses\.noise\.variance/);
    expect(() =>
      sweepVariants(
        loadScenario(
          'defense-noise-sweep',
          set([
            { label: 'a', set: {} },
            { label: 'a', set: {} },
          ]),
        ),
      ),
    ).to.throw(/"a" is used twice/);
    expect(() => sweepVariants(loadScenario('defense-noise-sweep', set([{ label: '../x', set: {} }])))).to.throw(/must be a folder name/);
  });

  it('rows average the scored attacks and charge the accuracy cost against the first row', () => {
    const [none, noisy] = sweepVariants(loadScenario('defense-noise-sweep')).slice(0, 2);
    const results = (acc: number, psnrs: number[], error = false): RunResults =>
      ({
        rounds: [
          { round: 1, participants: [], dropped: [], testAccuracy: 0.1, testLoss: 1, seconds: 1 },
          { round: 2, participants: [], dropped: [], testAccuracy: acc, testLoss: 1, seconds: 1 },
        ],
        attacks: [
          ...psnrs.map((psnr) => ({
            round: 1,
            target: 'c0',
            attack: 'dlg',
            view: 'plain',
            batchSize: 1,
            mse: 10 ** (-psnr / 10),
            psnr,
            ssim: 0.5,
            labelAccuracy: 1,
            iterations: 1,
            evaluations: 1,
            finalObjective: 0,
            seconds: 1,
          })),
          ...(error
            ? [
                {
                  round: 1,
                  target: 'c1',
                  attack: 'dlg',
                  view: 'plain',
                  batchSize: 1,
                  mse: NaN,
                  psnr: NaN,
                  ssim: NaN,
                  labelAccuracy: NaN,
                  iterations: 0,
                  evaluations: 0,
                  finalObjective: NaN,
                  seconds: 0,
                  error: 'boom',
                },
              ]
            : []),
        ],
      }) as unknown as RunResults;
    const rows = withAccuracyCost([sweepRow(none, results(0.8, [30, 40])), sweepRow(noisy, results(0.5, [10], true))]);
    expect(rows[0]).to.include({ variant: 'none', finalTestAccuracy: 0.8, accuracyCost: 0 });
    expect(rows[0].attack).to.include({ psnr: 35, count: 2 });
    expect(rows[1].accuracyCost).to.be.closeTo(0.3, 1e-12);
    expect(rows[1].attack).to.include({ psnr: 10, count: 1 });
    expect(rows[1].overrides).to.deep.equal({ 'defenses.noise': { mechanism: 'gaussian', variance: 1e-4 } });
  });
});

describe('fedleak run of a sweep (real processes)', () => {
  it('runs each variant with its defence on the clients and writes the combined table and grid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-sweep-'));
    const file = path.join(dir, 'sweep.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'sweep-test',
        seed: 3,
        data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 60, testFraction: 0.2 },
        model: { name: 'mlp', hidden: [8] },
        federation: {
          clients: 2,
          clientsPerRound: 2,
          clientsPerProcess: 2,
          rounds: 1,
          algorithm: 'fedsgd',
          batchSize: 1,
          learningRate: 0.1,
        },
        // The analytic attack recovers a batch-1 input from a dense layer with bias exactly, so any
        // loss of quality comes from the defence the client applied.
        attack: { name: 'analytic', rounds: [1], maxTargets: 1 },
        sweep: [
          { label: 'none', set: {} },
          { label: 'noise', set: { 'defenses.noise': { variance: 1e-2 } } },
          { label: 'dp', set: { 'defenses.dp': { clippingNorm: 1, noiseMultiplier: 2, delta: 1e-5 } } },
        ],
      }),
    );
    const out = path.join(dir, 'out');
    const fedleak = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [fedleak, 'run', file, '-o', out, '-q'],
        { env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' }, timeout: 120000 },
        (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
      );
    });
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const rows = results.sweep ?? [];
    expect(rows.map((r) => r.variant)).to.deep.equal(['none', 'noise', 'dp']);
    for (const label of ['none', 'noise', 'dp']) expect(fs.existsSync(path.join(out, label, 'results.json')), label).to.equal(true);
    const psnr = (i: number): number => rows[i].attack?.psnr ?? NaN;
    expect(psnr(0)).to.be.above(40); // undefended: exact up to float32
    expect(psnr(1)).to.be.below(psnr(0) - 10); // the observer saw the noised update
    expect(psnr(2)).to.be.above(40); // central DP: the curious server still sees the individual update
    expect(rows[0].accuracyCost).to.equal(0);
    expect(rows[2].privacy).to.deep.equal({
      epsilon: computeEpsilon(2, 1, 1, 1e-5).epsilon,
      delta: 1e-5,
      noiseMultiplier: 2,
      sampleRate: 1,
      steps: 1,
    });
    expect(rows[0].privacy).to.equal(undefined);
    expect(results.attacks.map((a) => a.variant)).to.deep.equal(['none', 'noise', 'dp']);
    results.attacks.forEach((a) => expect(fs.existsSync(path.join(out, a.image ?? 'missing'))).to.equal(true));
    const grid = PNG.sync.read(fs.readFileSync(path.join(out, 'reconstructions.png')));
    const one = PNG.sync.read(fs.readFileSync(path.join(out, results.attacks[0].image ?? '')));
    expect(grid.height).to.be.at.least(3 * one.height);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
