import { expect } from 'chai';
import { tf } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../shared/models';
import { attackSchema, modelSchema, type ModelConfig } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { loadMnist, type Dataset } from '../shared/data';
import { psnr } from '../server/metrics';
import { parameterGradients } from '../server/observer/gradient-matching';
import { analytic, clusterRatios, unitRatios } from '../server/observer/attacks/analytic';
import { simulatedUpdate } from '../server/observer/attacks/inverting-gradients';
import type { UpdateKind } from '../server/observer/attacks/types';
import { toAttackInput, type FlatInput } from './fixtures/flat-input';

const SHAPE: [number, number, number] = [28, 28, 1];
const SIZE = 28 * 28;

function pickBatch(ds: Dataset, rng: Rng, n: number): { images: Float32Array; labels: number[] } {
  const idx = rng.sample(ds.labels.length, n);
  const images = new Float32Array(n * SIZE);
  idx.forEach((i, k) => images.set(ds.images.subarray(i * SIZE, (i + 1) * SIZE), k * SIZE));
  return { images, labels: idx.map((i) => ds.labels[i]) };
}

/** The update a client with these examples sends (gradient, or a 1-step fedavg delta), made in-process. */
function makeInput(config: ModelConfig, seed: number, images: Float32Array, labels: number[], kind: UpdateKind = 'gradient'): FlatInput {
  const model = buildModel(config, SHAPE, 10);
  const globalParams = model.initParams(new Rng(seed));
  const params = unflattenParams(globalParams, model.specs);
  const n = labels.length;
  const update = tf.tidy(() => {
    const x = tf.tensor4d(images, [n, ...SHAPE]);
    const g =
      kind === 'gradient'
        ? parameterGradients(model, params, x, oneHot(labels, 10))
        : simulatedUpdate(model, params, x, [oneHot(labels, 10)], { steps: 1, batchSize: n, learningRate: 0.05 }, kind);
    return flattenParams(g, model.specs);
  });
  tf.dispose(params);
  return {
    model: { config, inputShape: SHAPE, numClasses: 10 },
    globalParams,
    update,
    updateKind: kind,
    training: { algorithm: kind === 'gradient' ? 'fedsgd' : 'fedavg', batchSize: n, localSteps: 1, learningRate: 0.05, localEpochs: 0 },
    numExamples: n,
    attack: attackSchema.parse({ name: 'analytic' }),
    seed,
  };
}

/** Best PSNR of reconstruction i against any original. */
function bestPsnr(recon: Float32Array, i: number, originals: Float32Array, n: number): number {
  const r = recon.subarray(i * SIZE, (i + 1) * SIZE);
  return Math.max(...Array.from({ length: n }, (_, j) => psnr(r, originals.subarray(j * SIZE, (j + 1) * SIZE))));
}

describe('analytic attack (dense first layer with bias)', () => {
  let ds: Dataset;
  const mlp = modelSchema.parse({ name: 'mlp', hidden: [200], activation: 'relu' });
  before(async () => {
    await initBackend({ quiet: true });
    ds = loadMnist();
  });

  it('recovers a single real digit exactly (PSNR ≥ 60 dB) and its label, for 3 digits', async () => {
    for (let t = 0; t < 3; t++) {
      const { images, labels } = pickBatch(ds, new Rng(10 + t), 1);
      const out = await analytic(toAttackInput(makeInput(mlp, t, images, labels)));
      expect(out.count).to.equal(1);
      expect(psnr(out.images, images)).to.be.at.least(60);
      expect(out.labels).to.deep.equal(labels);
      // Baseline: an all-black guess, which beats noise on MNIST's dark backgrounds, stays far below.
      expect(psnr(new Float32Array(SIZE), images)).to.be.below(20);
    }
  });

  it('recovers the digit from a one-step fedavg weight delta (the learning rate cancels)', async () => {
    const { images, labels } = pickBatch(ds, new Rng(21), 1);
    const out = await analytic(toAttackInput(makeInput(mlp, 3, images, labels, 'weight-delta')));
    expect(psnr(out.images, images)).to.be.at.least(60);
  });

  it('recovers several digits of a batch of 4 from units only one example reaches', async () => {
    const { images, labels } = pickBatch(ds, new Rng(31), 4);
    const out = await analytic(toAttackInput(makeInput(mlp, 4, images, labels)));
    expect(out.count).to.be.within(1, 4);
    const exact = Array.from({ length: out.count }, (_, i) => bestPsnr(out.images, i, images, 4)).filter((p) => p >= 40);
    expect(exact.length).to.be.at.least(2);
  });

  it('clusters identical unit ratios and drops units with no bias gradient', () => {
    // 2 inputs × 3 units, tfjs layout [in, out]: units 0 and 2 see x = (1, 2), unit 1 nothing.
    const kernel = Float32Array.from([0.5, 0, -1, 1, 0, -2]);
    const bias = Float32Array.from([0.5, 0, -1]);
    const ratios = unitRatios(kernel, bias);
    expect(ratios.map((r) => r.unit)).to.deep.equal([2, 0]);
    const clusters = clusterRatios(ratios);
    expect(clusters).to.have.length(1);
    expect(Array.from(clusters[0].image)).to.deep.equal([1, 2]);
  });

  it('fails with a clear error on a model without a dense first layer', async () => {
    const lenet = modelSchema.parse({ name: 'lenet-zhu' });
    const model = buildModel(lenet, SHAPE, 10);
    const n = model.specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    const input = toAttackInput({
      ...makeInput(mlp, 1, new Float32Array(SIZE), [0]),
      model: { config: lenet, inputShape: SHAPE, numClasses: 10 },
      globalParams: new Float32Array(n),
      update: new Float32Array(n),
    });
    let error: Error | null = null;
    try {
      await analytic(input);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/lenet-zhu" has no dense first layer with bias/);
  });
});
