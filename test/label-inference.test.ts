import { expect } from 'chai';
import { tf } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams, type Model } from '../shared/models';
import { modelSchema } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { loadMnist, type Dataset } from '../shared/data';
import { parameterGradients } from '../server/observer/gradient-matching';
import {
  countRuleCandidates,
  countRuleLabels,
  inferLabels,
  multisetLabelAccuracy,
  signRuleLabel,
} from '../server/observer/attacks/label-inference';
import { simulatedUpdate } from '../server/observer/attacks/inverting-gradients';

const SHAPE: [number, number, number] = [28, 28, 1];

/** A batch of real MNIST digits picked by `rng`. */
function pickBatch(ds: Dataset, rng: Rng, n: number): { images: Float32Array; labels: number[] } {
  const size = 28 * 28;
  const idx = rng.sample(ds.labels.length, n);
  const images = new Float32Array(n * size);
  idx.forEach((i, k) => images.set(ds.images.subarray(i * size, (i + 1) * size), k * size));
  return { images, labels: idx.map((i) => ds.labels[i]) };
}

function trueGradient(model: Model, params: tf.Tensor[], images: Float32Array, labels: number[]): Float32Array {
  return tf.tidy(() => {
    const g = parameterGradients(model, params, tf.tensor4d(images, [labels.length, ...SHAPE]), oneHot(labels, 10));
    return flattenParams(g, model.specs);
  });
}

describe('label inference', () => {
  let ds: Dataset;
  before(async () => {
    await initBackend({ quiet: true });
    ds = loadMnist();
  });

  it('counts the labels of 10 batches of 8 real digits on lenet-zhu U(±0.5) with ≥ 90% accuracy, far above chance', () => {
    const model = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), SHAPE, 10);
    let inferred = 0;
    let chance = 0;
    for (let b = 0; b < 10; b++) {
      const rng = new Rng(500 + b);
      const params = unflattenParams(model.initParams(rng), model.specs);
      const { images, labels } = pickBatch(ds, rng, 8);
      const gradient = trueGradient(model, params, images, labels);
      const guess = inferLabels({ model, params, gradient, count: 8, seed: b });
      expect(guess).to.have.length(8);
      inferred += multisetLabelAccuracy(guess, labels);
      chance += multisetLabelAccuracy(
        Array.from({ length: 8 }, () => rng.int(10)),
        labels,
      );
      tf.dispose(params);
    }
    expect(inferred / 10).to.be.at.least(0.9);
    expect(inferred / 10).to.be.greaterThan(chance / 10 + 0.4);
  });

  it('finds the single label of batch-1 gradients by the sign rule (10 digits)', () => {
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [64] }), SHAPE, 10);
    const rng = new Rng(7);
    const params = unflattenParams(model.initParams(rng), model.specs);
    for (let d = 0; d < 10; d++) {
      const { images, labels } = pickBatch(ds, rng, 1);
      const gradient = trueGradient(model, params, images, labels);
      expect(inferLabels({ model, params, gradient, count: 1, seed: d })).to.deep.equal(labels);
    }
    tf.dispose(params);
  });

  it('reads labels from a fedavg weight delta (2 steps × 2) used as a gradient estimate', () => {
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [64], activation: 'sigmoid' }), SHAPE, 10);
    let total = 0;
    for (let t = 0; t < 3; t++) {
      const rng = new Rng(40 + t);
      const params = unflattenParams(model.initParams(rng), model.specs);
      const { images, labels } = pickBatch(ds, rng, 4);
      const plan = { steps: 2, batchSize: 2, learningRate: 0.1 };
      const delta = tf.tidy(() => {
        const targets = [oneHot(labels.slice(0, 2), 10), oneHot(labels.slice(2), 10)];
        return flattenParams(
          simulatedUpdate(model, params, tf.tensor4d(images, [4, ...SHAPE]), targets, plan, 'weight-delta'),
          model.specs,
        );
      });
      const estimate = delta.map((v) => -v / (plan.learningRate * plan.steps));
      total += multisetLabelAccuracy(inferLabels({ model, params, gradient: estimate, count: 4, seed: t }), labels);
      tf.dispose(params);
    }
    expect(total / 3).to.be.at.least(0.9);
  });

  it('count rule: gives every certainly-present class a label, then the largest deficits', () => {
    // N = 4, p̂ uniform 0.1; labels {2, 2, 2, 5}: N·g = N·p − n → g_j = 0.1 − n_j/4.
    const p = new Array<number>(10).fill(0.1);
    const g = p.map((pj, j) => pj - (j === 2 ? 3 : j === 5 ? 1 : 0) / 4);
    expect(countRuleLabels(g, p, 4)).to.deep.equal([2, 2, 2, 5]);
    expect(signRuleLabel([0.1, 0.2, -0.9, 0.3])).to.equal(2);
    expect(() => countRuleLabels(g, p.slice(1), 4)).to.throw(/9 softmax means for 10 classes/);
  });

  it('count rule candidates: the rule answer first, then the runner-up of its closest call, without repeats', () => {
    // Labels {2, 2, 2, 5} as above, but p̂ overestimates class 7 (0.3) so that its residual −0.9 nearly
    // beats class 2's −1 at the second greedy pick.
    const p = new Array<number>(10).fill(0.1);
    p[7] = 0.3;
    const g = [0.1, 0.1, -0.65, 0.1, 0.1, -0.15, 0.1, 0.075, 0.1, 0.1];
    const candidates = countRuleCandidates(g, p, 4, 3, Infinity);
    expect(candidates[0])
      .to.deep.equal(countRuleLabels(g, p, 4))
      .and.deep.equal([2, 2, 2, 5]);
    // Deviating at the first pick (gap 1.1) also ends in {2, 2, 5, 7}: kept once.
    expect(candidates).to.deep.equal([
      [2, 2, 2, 5],
      [2, 2, 5, 7],
    ]);
    expect(countRuleCandidates(g, p, 4, 1)).to.deep.equal([[2, 2, 2, 5]]);
    // Clear calls get no runner-up: with p̂[7] = 0.15 class 7 sits at −0.3, gaps 1.7 and 0.7 > CLOSE_CALL_GAP.
    const clear = p.slice();
    clear[7] = 0.15;
    expect(countRuleCandidates(g, clear, 4, 3)).to.deep.equal([[2, 2, 2, 5]]);
    expect(countRuleCandidates(g, p, 4, 3)).to.deep.equal([
      [2, 2, 2, 5],
      [2, 2, 5, 7],
    ]);
  });

  it('count rule candidates: an over-predicted class outside the answer replaces the last greedy pick', () => {
    // The fedavg scenario's client c0 (labels {0, 1, 3, 7}): p̂ says class 7 everywhere, but after its
    // first step on a 3 the model predicts 3, so N·g_3 = +0.5 (residual +0.46) and the rule answers {0, 1, 7, 7}.
    const p = [0, 0, 0, 0.01, 0, 0, 0, 0.99, 0, 0];
    const g = [-1, -1, 0, 0.5, 0, 0, 0, 1.5, 0, 0].map((v) => v / 4);
    expect(countRuleCandidates(g, p, 4, 3)).to.deep.equal([
      [0, 1, 7, 7],
      [0, 1, 3, 7],
    ]);
    expect(countRuleCandidates(g, p, 4, 3, 0.5, Infinity), 'no surplus rule: the answer alone').to.deep.equal([[0, 1, 7, 7]]);
    // All labels certain (negative g_b): nothing to replace.
    expect(
      countRuleCandidates([-0.25, -0.25, -0.25, -0.25, 0.2, 0.2, 0.2, 0.2, 0, 0], new Array<number>(10).fill(0.1), 4, 3),
    ).to.deep.equal([[0, 1, 2, 3]]);
  });

  it('multiset accuracy counts repeated labels only as often as they occur', () => {
    expect(multisetLabelAccuracy([1, 1, 1, 2], [1, 2, 3, 1])).to.equal(0.75);
    expect(multisetLabelAccuracy([3, 3], [3, 4])).to.equal(0.5);
  });
});
