import { expect } from 'chai';
import { buildModel } from '../shared/models';
import { loadMnist, type Dataset } from '../shared/data';
import { Rng } from '../shared/random';
import { modelSchema } from '../shared/models/schema';
import { initBackend } from '../shared/tensor/backend';
import type { ImageShape } from '../shared/models/types';
import {
  buildImprintBlock,
  imprintBoundaries,
  measurePublicStatistic,
  queryValues,
  type ImprintBlock,
  type ImprintQuery,
} from '../server/malicious/imprint';
import { imprintReadout, imprintReadoutFromUpdate } from '../server/malicious/imprint-readout';
import { withImprintBlock } from '../server/malicious/imprint-model';
import { normalQuantile, laplaceQuantile } from '../server/malicious/quantiles';
import {
  clientGradient,
  countAtLeast,
  matchedPsnrs,
  roundTruth,
  secureAggregateMean,
  type ClientBatch,
} from '../tools/eval/malicious-round';

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;
const PUBLIC = 500;

function publicImages(ds: Dataset): Float32Array {
  return ds.images.subarray((ds.labels.length - PUBLIC) * N);
}

/** Digits whose query value falls each in a different bin (and none in the last), as client batches. */
function onePerBin(ds: Dataset, block: ImprintBlock, clients: number, perClient: number): ClientBatch[] {
  const c = block.secrets.boundaries;
  const taken = new Set<number>();
  const chosen: number[] = [];
  for (let i = 0; chosen.length < clients * perClient; i++) {
    const [h] = queryValues(block.secrets.query, ds.images.subarray(i * N, (i + 1) * N), 1, N);
    let bin = 0;
    while (bin + 1 < c.length && h > c[bin + 1]) bin++;
    // Keep a clear margin from both boundaries so float rounding cannot move the example.
    const margin = 1e-4 * block.secrets.statistic.std;
    const clear = h - c[bin] > margin && (bin + 1 === c.length || c[bin + 1] - h > margin);
    if (taken.has(bin) || !clear) continue;
    taken.add(bin);
    chosen.push(i);
  }
  return Array.from({ length: clients }, (_, k) => {
    const idx = chosen.slice(k * perClient, (k + 1) * perClient);
    const images = new Float32Array(idx.length * N);
    idx.forEach((i, j) => images.set(ds.images.subarray(i * N, (i + 1) * N), j * N));
    return { images, labels: idx.map((i) => ds.labels[i]) };
  });
}

function firstLayer(flat: Float32Array, bins: number): [Float32Array, Float32Array] {
  return [flat.subarray(0, N * bins), flat.subarray(N * bins, N * bins + bins)];
}

describe('malicious server: imprint block (Robbing the Fed)', function () {
  this.timeout(60000);
  let ds: Dataset;
  before(async () => {
    await initBackend({ quiet: true });
    ds = loadMnist();
  });

  for (const query of [{ kind: 'avg' }, { kind: 'fourier', mode: 0 }] as ImprintQuery[]) {
    it(`reads back every example exactly when each sits alone in its bin (${query.kind} query)`, () => {
      const block = buildImprintBlock({
        inputSize: N,
        bins: 32,
        query,
        statistic: measurePublicStatistic(query, publicImages(ds), PUBLIC, N),
      });
      const model = withImprintBlock(buildModel(modelSchema.parse({ name: 'mlp', hidden: [32] }), SHAPE, 10), block);
      const [batch] = onePerBin(ds, block, 1, 6);
      const g = clientGradient(model, model.initParams(new Rng(3)), batch);
      const out = imprintReadout(...firstLayer(g, 32), block.secrets, { expected: 6 });
      expect(out.hits).to.equal(6);
      const psnrs = matchedPsnrs(out.images, out.count, { images: batch.images, count: 6 }, SHAPE);
      for (const p of psnrs) expect(p).to.be.at.least(60);
    });
  }

  it('reads them from the unmasked sum of a real secure-aggregation round (fixed-point quantisation), each at ≥ 30 dB', async () => {
    const query: ImprintQuery = { kind: 'fourier', mode: 0 };
    const block = buildImprintBlock({
      inputSize: N,
      bins: 64,
      query,
      statistic: measurePublicStatistic(query, publicImages(ds), PUBLIC, N),
    });
    const model = withImprintBlock(buildModel(modelSchema.parse({ name: 'mlp', hidden: [32] }), SHAPE, 10), block);
    const params = model.initParams(new Rng(5));
    const batches = onePerBin(ds, block, 4, 3);
    const secure = await secureAggregateMean(
      batches.map((b) => clientGradient(model, params, b)),
      { clippingRange: 8, quantizationRange: 2 ** 22 },
      5,
    );
    const truth = roundTruth(batches);
    const out = imprintReadoutFromUpdate(secure.mean, model.specs, block.secrets, { expected: truth.count });
    const psnrs = matchedPsnrs(out.images, out.count, truth, SHAPE);
    expect(countAtLeast(psnrs, 30), psnrs.map((p) => p.toFixed(1)).join(' ')).to.equal(truth.count);
  });

  it('an honest model (no block) yields nothing at ≥ 30 dB through the same readout', async () => {
    const bins = 64;
    const query: ImprintQuery = { kind: 'fourier', mode: 0 };
    const secrets = buildImprintBlock({
      inputSize: N,
      bins,
      query,
      statistic: measurePublicStatistic(query, publicImages(ds), PUBLIC, N),
    }).secrets;
    const honest = buildModel(modelSchema.parse({ name: 'mlp', hidden: [bins] }), SHAPE, 10);
    const params = honest.initParams(new Rng(8));
    const rng = new Rng(9);
    const batches: ClientBatch[] = Array.from({ length: 4 }, () => {
      const idx = rng.sample(ds.labels.length - PUBLIC, 8);
      const images = new Float32Array(8 * N);
      idx.forEach((i, j) => images.set(ds.images.subarray(i * N, (i + 1) * N), j * N));
      return { images, labels: idx.map((i) => ds.labels[i]) };
    });
    const secure = await secureAggregateMean(
      batches.map((b) => clientGradient(honest, params, b)),
      { clippingRange: 8, quantizationRange: 2 ** 22 },
      9,
    );
    const truth = roundTruth(batches);
    const out = imprintReadout(...firstLayer(secure.mean, bins), secrets, { expected: truth.count });
    expect(countAtLeast(matchedPsnrs(out.images, out.count, truth, SHAPE), 30)).to.equal(0);
  });

  it('lays the block out as the method says: identical rows, equal-mass bins, 1/gain back-projection, serialisable secrets', () => {
    const query: ImprintQuery = { kind: 'avg' };
    const stat = measurePublicStatistic(query, publicImages(ds), PUBLIC, N);
    const block = buildImprintBlock({ inputSize: N, bins: 10, query, statistic: stat, gain: 2, distribution: 'empirical' });
    for (let j = 0; j < N; j++) for (let i = 0; i < 10; i++) expect(block.kernel[j * 10 + i]).to.equal(Math.fround(2 / N));
    expect(Array.from(block.outKernel.slice(0, 5))).to.deep.equal([0.5, 0.5, 0.5, 0.5, 0.5]);
    const c = block.secrets.boundaries;
    for (let i = 1; i < c.length; i++) expect(c[i]).to.be.greaterThan(c[i - 1]);
    // Empirical boundaries split the public values into ten bins of 50 ± 1.
    const counts = new Array<number>(10).fill(0);
    for (const h of stat.sorted!) counts[c.filter((b) => h > b).length - 1]++;
    for (const n of counts) expect(n).to.be.within(49, 51);
    expect(JSON.parse(JSON.stringify(block.secrets))).to.deep.equal(block.secrets);
  });

  it('quantiles: Φ⁻¹ and the Laplace inverse CDF at known points; the default boundaries follow them', () => {
    expect(normalQuantile(0.975)).to.be.closeTo(1.959963985, 1e-6);
    expect(normalQuantile(0.001)).to.be.closeTo(-3.090232306, 1e-6);
    expect(normalQuantile(0.5)).to.be.closeTo(0, 1e-9);
    expect(laplaceQuantile(0.25, Math.SQRT1_2)).to.be.closeTo(-Math.SQRT1_2 * Math.log(2), 1e-12);
    const c = imprintBoundaries(4, { mean: 1, std: 2 }, 'normal');
    expect(c[0]).to.equal(1 - 20);
    expect(c[2]).to.be.closeTo(1, 1e-12);
    expect(c[3]).to.be.closeTo(1 + 2 * 0.6744897502, 1e-6);
  });

  it('refuses malformed inputs with a message naming the problem', () => {
    const stat = { mean: 0, std: 1 };
    expect(() => buildImprintBlock({ inputSize: N, bins: 1, statistic: stat })).to.throw(/bins must be an integer ≥ 2/);
    expect(() => buildImprintBlock({ inputSize: N, bins: 8, statistic: { mean: 0, std: 0 } })).to.throw(/positive std/);
    expect(() => buildImprintBlock({ inputSize: N, bins: 8, statistic: stat, distribution: 'empirical' })).to.throw(/statistic\.sorted/);
    const secrets = buildImprintBlock({ inputSize: N, bins: 8, statistic: stat }).secrets;
    expect(() => imprintReadout(new Float32Array(N * 8), new Float32Array(7), secrets, { expected: 1 })).to.throw(
      /bias gradient has 7 entries, the block has 8 bins/,
    );
    expect(() => imprintReadout(new Float32Array(N), new Float32Array(8), secrets, { expected: 1 })).to.throw(
      /kernel gradient has 784 entries/,
    );
  });
});
