import { expect } from 'chai';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, splitFlat } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { Rng } from '../shared/random';
import { loadMnist, subset } from '../shared/data';
import { computeUpdate } from '../client/train';
import { minCostAssignment, ssim } from '../server/metrics';
import { cocktailParty } from '../server/observer/attacks/cocktail-party';

const SHAPE: [number, number, number] = [28, 28, 1];
const D = 784;

/** The server's aggregate of FedSGD gradients from clients of `batch` real digits each, as clients compute them. */
function aggregate(n: number, batch: number, hidden: number, seed: number) {
  const ds = loadMnist();
  const rng = new Rng(seed);
  const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [hidden] }), SHAPE, 10);
  const params = model.initParams(rng.fork('model'));
  const indices = rng.fork('batch').sample(ds.labels.length, n);
  const mean = new Float32Array(params.length);
  for (let c = 0; c * batch < n; c++) {
    const shard = subset(ds, indices.slice(c * batch, (c + 1) * batch));
    const g = computeUpdate(model, params, shard, [Array.from(shard.labels, (_, i) => i)], 'fedsgd', 0.1);
    for (let i = 0; i < g.length; i++) mean[i] += (g[i] * shard.labels.length) / n;
  }
  const [kernel, bias] = splitFlat(mean, model.specs);
  return { kernel, bias, truth: subset(ds, indices).images, hidden };
}

function recognisable(recon: Float32Array, truth: Float32Array, n: number): number {
  const sim = Array.from({ length: recon.length / D }, (_, i) =>
    Array.from({ length: n }, (_, j) => ssim(recon.subarray(i * D, (i + 1) * D), truth.subarray(j * D, (j + 1) * D), SHAPE)),
  );
  const match = minCostAssignment(sim.map((r) => r.map((s) => -s)));
  return match.filter((j, i) => j >= 0 && sim[i][j] >= 0.6).length;
}

describe('cocktail party (ICA on a dense layer gradient)', () => {
  before(async () => {
    await initBackend();
  });

  it('reads one example out exactly with the bias gradient (no prior needed)', () => {
    const a = aggregate(1, 1, 32, 3);
    const out = cocktailParty(a.kernel, { examples: 1, shape: SHAPE, units: 32, biasGradient: a.bias });
    expect(out.count).to.equal(1);
    expect(out.scaling).to.equal('bias');
    let worst = 0;
    for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs(out.images[j] - a.truth[j]));
    expect(worst).to.be.below(1e-3);
  });

  it('unmixes an 8-digit aggregate of two clients; the binary prior beats plain FastICA', () => {
    const a = aggregate(8, 4, 64, 11);
    const base = { examples: 8, shape: SHAPE, units: 64 };
    const plain = cocktailParty(a.kernel, { ...base, method: 'fastica' });
    const prior = cocktailParty(a.kernel, { ...base, biasGradient: a.bias, binaryPrior: true, iterations: 300 });
    expect(plain.rank).to.equal(8);
    expect(prior.images.length).to.equal(8 * D);
    for (const v of prior.images) expect(v >= 0 && v <= 1).to.equal(true);
    const good = recognisable(prior.images, a.truth, 8);
    expect(good).to.be.at.least(6);
    expect(good).to.be.greaterThan(recognisable(plain.images, a.truth, 8));
  });

  it('names what is wrong with its input', () => {
    const g = new Float32Array(784 * 16);
    expect(() => cocktailParty(g.subarray(1), { examples: 2, shape: SHAPE, units: 16 })).to.throw(
      /12543 values; a dense layer 784→16 has 12544/,
    );
    expect(() => cocktailParty(g, { examples: 17, shape: SHAPE, units: 16 })).to.throw(/17 examples cannot be separated from 16 mixtures/);
    expect(() => cocktailParty(g, { examples: 2, shape: SHAPE, units: 16, binaryPrior: true })).to.throw(/binaryPrior needs biasGradient/);
  });
});
