/**
 * Batch norm and dropout: imported Keras layers compute what tfjs computes (inference on moving
 * statistics, training on batch statistics, the same parameter gradients); the client's step moves
 * the moving statistics by the momentum and sends them so every strategy applies them; attacks see
 * them as zero; dropout masks are seeded and reproducible; the built-in ResNets and the IG ConvNet
 * have the published sizes.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import {
  buildModel,
  INFERENCE_FORWARD,
  modelFromDefinition,
  oneHot,
  paramCount,
  softCrossEntropy,
  unflattenParams,
  type Model,
} from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { importTfjsLayersModel } from '../shared/models/import/tfjs-layers';
import { computeUpdate } from '../client/train';
import { attackInput } from '../server/observer/attack-input';
import { validateScenario } from '../server/scenario/load';
import { cosineGradientDistance, parameterGradients } from '../server/observer/gradient-matching';
import { Rng } from '../shared/random';
import type { Dataset } from '../shared/data/types';
import type { ServerPayload } from '../shared/contract';
import { saveLayersModel } from './fixtures/tfjs-save';
import { directionalChecks, randomTensor } from './fixtures/finite-differences';

const maxDiff = (a: Tensor, b: Tensor): number => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

/** Gives every weight of a keras model random values (variances positive), so the parity checks mean something. */
function randomiseWeights(keras: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  keras.setWeights(
    keras.getWeights().map((w, i) => {
      const values = rng.fork(`w${i}`).fillNormal(new Float32Array(w.size), 0, 0.5);
      if (keras.weights[i].originalName.includes('moving_variance'))
        for (let k = 0; k < values.length; k++) values[k] = 0.5 + Math.abs(values[k]);
      return tf.tensor(values, w.shape);
    }),
  );
}

function residualBnModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }).apply(conv) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([input, bn]) as tf.SymbolicTensor;
  const act = tf.layers.activation({ activation: 'relu' }).apply(sum) as tf.SymbolicTensor;
  const pool = tf.layers.maxPooling2d({ poolSize: 2 }).apply(act) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(pool) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3 }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function dataset(rng: Rng, count: number, shape: [number, number, number], classes: number): Dataset {
  const size = shape[0] * shape[1] * shape[2];
  const images = rng.fillUniform(new Float32Array(count * size), 0, 1);
  const labels = Int32Array.from({ length: count }, (_v, i) => i % classes);
  return { name: 'random', images, labels, shape, numClasses: classes };
}

/** A resnet's stem batch statistics on 8×8×3 data, computed independently: its conv (no bias, padding 1) of the batch, per channel; variance biased. */
function stemStatistics(ps: readonly Tensor[], data: Dataset): { mean: Tensor; variance: Tensor } {
  const images = tf.tensor4d(data.images, [data.labels.length, 8, 8, 3]);
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const conv = tf.conv2d(images, ps[0] as tf.Tensor4D, 1, padding);
  const mean = tf.mean(conv, [0, 1, 2]);
  return { mean, variance: tf.mean(tf.square(tf.sub(conv, mean)), [0, 1, 2]) };
}

describe('batch norm and dropout', function () {
  this.timeout(120000);
  let dir = '';
  before(async () => {
    await initBackend({ quiet: true });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-bn-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imported BatchNormalization (+ Dropout, scale off): inference logits equal model.predict on the moving statistics', async () => {
    const keras = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same' }),
        tf.layers.batchNormalization({ momentum: 0.8, epsilon: 0.01 }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.flatten(),
        tf.layers.batchNormalization({ scale: false }),
        tf.layers.dense({ units: 4 }),
      ],
    });
    randomiseWeights(keras, 1);
    const imported = importTfjsLayersModel(await saveLayersModel(keras, dir));
    const model = modelFromDefinition(imported.definition);
    expect(model.definition.layers.map((l) => l.op)).to.deep.equal([
      'conv2d',
      'batchNorm',
      'activation',
      'dropout',
      'flatten',
      'batchNorm',
      'dense',
    ]);
    expect(model.definition.layers[1].config).to.deep.include({ momentum: 0.8, epsilon: 0.01 });
    expect(model.stateParams.map((i) => model.specs[i].name.split('/').pop())).to.deep.equal([
      'moving_mean',
      'moving_variance',
      'moving_mean',
      'moving_variance',
    ]);
    const x = tf.randomNormal([5, 6, 6, 2], 0, 1, 'float32', 3) as Tensor4D;
    const params = unflattenParams(imported.params, model.specs);
    expect(maxDiff(model.apply(params, x, INFERENCE_FORWARD), keras.predict(x) as Tensor)).to.be.below(1e-5);
    // Training mode normalises with the batch's statistics instead: a different answer.
    expect(maxDiff(model.apply(params, x), keras.predict(x) as Tensor)).to.be.above(1e-2);
  });

  it('training mode: logits and the parameter gradients equal tfjs with training: true (residual Add + BN + MaxPool)', async () => {
    const keras = residualBnModel();
    randomiseWeights(keras, 2);
    const imported = importTfjsLayersModel(await saveLayersModel(keras, dir));
    const model = modelFromDefinition(imported.definition);
    const rng = new Rng(5);
    const data = dataset(rng, 4, [6, 6, 2], 3);
    const x = tf.tensor4d(data.images, [4, 6, 6, 2]);
    const y = oneHot(data.labels, 3);
    const params = unflattenParams(imported.params, model.specs);
    expect(maxDiff(model.apply(params, x), keras.apply(x, { training: true }) as Tensor)).to.be.below(1e-5);

    const theirs = tf.variableGrads(() => softCrossEntropy(keras.apply(x, { training: true }) as tf.Tensor2D, y) as tf.Scalar).grads;
    const ours = unflattenParams(computeUpdate(model, imported.params, data, [[0, 1, 2, 3]], 'fedsgd', 0.1), model.specs);
    const byName = new Map(Object.entries(theirs).map(([name, g]) => [name.replace(/_\d+$/, ''), g]));
    let compared = 0;
    model.specs.forEach((spec, i) => {
      if (model.stateParams.includes(i)) return;
      const g = [...byName.entries()].find(([name]) => name.endsWith(spec.name) || spec.name.endsWith(name))?.[1];
      expect(g, `tfjs gradient of ${spec.name}`).to.not.equal(undefined);
      expect(maxDiff(ours[i], g as Tensor), spec.name).to.be.below(1e-5);
      compared++;
    });
    expect(compared).to.equal(model.specs.length - 2);
  });

  it('the client step moves the moving statistics by the momentum; fedsgd sends them so θ − lr·g lands on them', () => {
    const model = buildModel(modelSchema.parse({ name: 'resnet', depth: 8 }), [8, 8, 3], 4);
    const rng = new Rng(9);
    const data = dataset(rng, 6, [8, 8, 3], 4);
    const global = model.initParams(rng.fork('init'));
    const stem = model.specs.findIndex((s) => s.name === 'stem/bn/moving_mean');
    const stemVar = model.specs.findIndex((s) => s.name === 'stem/bn/moving_variance');
    expect(stem).to.be.above(-1);
    const ps = unflattenParams(global, model.specs);
    const { mean, variance } = stemStatistics(ps, data);
    const n = 6 * 8 * 8;
    const unbiased = tf.mul(variance, n / (n - 1));
    const expectMean = tf.add(tf.mul(ps[stem], 0.9), tf.mul(mean, 0.1));
    const expectVar = tf.add(tf.mul(ps[stemVar], 0.9), tf.mul(unbiased, 0.1));

    const all = [[0, 1, 2, 3, 4, 5]];
    const delta = unflattenParams(computeUpdate(model, global, data, all, 'fedavg', 0.05), model.specs);
    expect(maxDiff(tf.add(ps[stem], delta[stem]), expectMean)).to.be.below(1e-5);
    expect(maxDiff(tf.add(ps[stemVar], delta[stemVar]), expectVar)).to.be.below(1e-5);
    const grad = unflattenParams(computeUpdate(model, global, data, all, 'fedsgd', 0.05), model.specs);
    expect(maxDiff(tf.sub(ps[stem], tf.mul(0.05, grad[stem])), expectMean)).to.be.below(1e-5);
    expect(maxDiff(tf.sub(ps[stemVar], tf.mul(0.05, grad[stemVar])), expectVar)).to.be.below(1e-5);
    // Weight decay trains gamma/beta but never pulls the statistics.
    const decayed = unflattenParams(computeUpdate(model, global, data, all, 'fedsgd', 0.05, { weightDecay: 0.5 }), model.specs);
    expect(maxDiff(decayed[stem], grad[stem])).to.equal(0);
  });

  it('attacks see the statistics entries of an update as zero (they are state, not gradient)', () => {
    const model = buildModel(modelSchema.parse({ name: 'resnet', depth: 8 }), [8, 8, 3], 4);
    const params = model.initParams(new Rng(1));
    const update = Float32Array.from({ length: params.length }, () => 1);
    const payload = {
      round: 1,
      model: model.definition,
      params,
      training: { algorithm: 'fedsgd', learningRate: 0.1 },
    } as unknown as ServerPayload;
    const input = attackInput({ round: 1, sender: 'c', kind: 'gradient', numExamples: 1, update } as never, payload, {
      settings: {},
      seed: 1,
    });
    const parts = unflattenParams(input.observed.update, model.specs);
    model.specs.forEach((_s, i) => {
      const sum = tf.sum(parts[i]).dataSync()[0];
      if (model.stateParams.includes(i)) expect(sum, model.specs[i].name).to.equal(0);
      else expect(sum, model.specs[i].name).to.equal(parts[i].size);
    });
    expect(update[0]).to.equal(1);
  });

  it('the server solves the moving statistics of a one-step update for the batch mean and variance (batchStatistics)', () => {
    const model = buildModel(modelSchema.parse({ name: 'resnet', depth: 8 }), [8, 8, 3], 4);
    const rng = new Rng(21);
    const data = dataset(rng, 5, [8, 8, 3], 4);
    const global = model.initParams(rng.fork('init'));
    const ps = unflattenParams(global, model.specs);
    const { mean, variance } = stemStatistics(ps, data);
    const all = [[0, 1, 2, 3, 4]];
    const stem = model.specs.findIndex((s) => s.name === 'stem/bn/moving_mean');
    for (const [algorithm, kind] of [
      ['fedsgd', 'gradient'],
      ['fedavg', 'weight-delta'],
    ] as const) {
      const update = computeUpdate(model, global, data, all, algorithm, 0.05);
      const training = { algorithm, learningRate: 0.05, batchSize: 5, localSteps: 1, localEpochs: 0 };
      const payload = { round: 1, model: model.definition, params: global, training } as unknown as ServerPayload;
      const input = attackInput({ round: 1, sender: 'c', kind, numExamples: 5, update } as never, payload, { settings: {}, seed: 1 });
      const stats = input.batchStatistics?.find((b) => b.movingMean === stem);
      expect(stats, algorithm).to.not.equal(undefined);
      expect(maxDiff(tf.tensor1d(stats?.mean ?? []), mean), `${algorithm} mean`).to.be.below(1e-4);
      expect(maxDiff(tf.tensor1d(stats?.variance ?? []), variance), `${algorithm} variance`).to.be.below(1e-4);
      expect(input.batchStatistics).to.have.length(model.stateParams.length / 2);
    }
    const twoSteps = {
      round: 1,
      model: model.definition,
      params: global,
      training: { algorithm: 'fedavg', learningRate: 0.05, batchSize: 5, localSteps: 2, localEpochs: 0 },
    };
    const update = computeUpdate(
      model,
      global,
      data,
      [
        [0, 1],
        [2, 3],
      ],
      'fedavg',
      0.05,
    );
    const input = attackInput(
      { round: 1, sender: 'c', kind: 'weight-delta', numExamples: 4, update } as never,
      twoSteps as unknown as ServerPayload,
      { settings: {}, seed: 1 },
    );
    expect(input.batchStatistics).to.equal(undefined);
  });

  it('the statistics prior of inverting-gradients needs the batchnorm-statistics capability (threat model E)', () => {
    const scenario = (threatModel?: string) => ({
      name: 'bn-prior',
      data: { dataset: 'synthetic', shape: [8, 8, 3], classes: 3, size: 40 },
      model: { name: 'resnet' },
      attack: { name: 'inverting-gradients', bnStatisticsWeight: 0.1 },
      ...(threatModel ? { threatModel } : {}),
    });
    expect(() => validateScenario(scenario(), 'test')).to.throw(/batchnorm-statistics/);
    expect(validateScenario(scenario('E'), 'test').attack?.name).to.equal('inverting-gradients');
  });

  describe('dropout', () => {
    const def = (rate: number) =>
      modelFromDefinition({
        format: 'fedleak-model/1',
        name: 'drop',
        inputShape: [4, 4, 2],
        numClasses: 3,
        layers: [
          { name: 'flat', op: 'flatten', inputs: ['input'], config: {}, params: [] },
          { name: 'drop', op: 'dropout', inputs: ['flat'], config: { rate }, params: [] },
          { name: 'out', op: 'dense', inputs: ['drop'], config: { units: 3 }, params: ['out/kernel', 'out/bias'] },
        ],
        params: [
          { name: 'out/kernel', shape: [32, 3] },
          { name: 'out/bias', shape: [3] },
        ],
      });
    const identityParams = (m: Model): Tensor[] => {
      const kernel = tf.concat([tf.eye(3), tf.zeros([29, 3])]);
      return unflattenParams(m.initParams(new Rng(0)), m.specs).map((p, i) => (i === 0 ? kernel : tf.zerosLike(p)));
    };

    it('masks come from the seed: reproducible, a new seed a new mask, kept values scaled by 1/(1 − rate), identity without a seed', () => {
      const model = def(0.5);
      const x = tf.ones([400, 4, 4, 2]) as Tensor4D;
      const ps = identityParams(model);
      const a = model.apply(ps, x, { batchNorm: 'batch', dropoutSeed: 11 }).arraySync().flat();
      const b = model.apply(ps, x, { batchNorm: 'batch', dropoutSeed: 11 }).arraySync().flat();
      const c = model.apply(ps, x, { batchNorm: 'batch', dropoutSeed: 12 }).arraySync().flat();
      expect(a).to.deep.equal(b);
      expect(a).to.not.deep.equal(c);
      expect(new Set(a)).to.deep.equal(new Set([0, 2]));
      const kept = a.filter((v) => v === 2).length / a.length;
      expect(kept).to.be.within(0.45, 0.55);
      expect(new Set(model.apply(ps, x).arraySync().flat())).to.deep.equal(new Set([1]));
    });

    it('a client with a dropout seed trains on masked inputs (a different update than without)', () => {
      const model = def(0.4);
      const rng = new Rng(4);
      const data = dataset(rng, 8, [4, 4, 2], 3);
      const global = model.initParams(rng.fork('p'));
      const plain = computeUpdate(model, global, data, [[0, 1, 2, 3]], 'fedavg', 0.1);
      const masked = computeUpdate(model, global, data, [[0, 1, 2, 3]], 'fedavg', 0.1, { dropoutSeed: 7 });
      const again = computeUpdate(model, global, data, [[0, 1, 2, 3]], 'fedavg', 0.1, { dropoutSeed: 7 });
      expect(Array.from(masked)).to.deep.equal(Array.from(again));
      expect(Array.from(masked)).to.not.deep.equal(Array.from(plain));
    });

    it('double backprop through a seeded mask matches finite differences', () => {
      const model = def(0.3);
      const rng = new Rng(8);
      const params = unflattenParams(model.initParams(rng.fork('p')), model.specs);
      const mode = { batchNorm: 'batch' as const, dropoutSeed: 3 };
      const target = oneHot([2], 3);
      const gradOf = (x: Tensor) => tf.grads((...ps: Tensor[]) => softCrossEntropy(model.apply(ps, x as Tensor4D, mode), target))(params);
      const x0 = randomTensor(rng.fork('x0'), [1, 4, 4, 2]);
      const trueGrads = gradOf(x0);
      const f = (x: Tensor): Tensor =>
        tf.tidy(() => gradOf(x).reduce((acc, g, i) => tf.add(acc, tf.sum(tf.square(tf.sub(g, trueGrads[i])))), tf.scalar(0)));
      const checks = directionalChecks(f, [randomTensor(rng.fork('x'), [1, 4, 4, 2])], rng.fork('d'), 4, 1e-2);
      for (const c of checks) expect(Math.abs(c.analytic - c.numeric)).to.be.below(0.03 * Math.abs(c.analytic) + c.noise + 1e-6);
    });
  });

  it('double backprop through a whole resnet (batch norm on batch statistics, residual adds, 1×1 stride-2 shortcuts) matches finite differences', () => {
    const model = buildModel(modelSchema.parse({ name: 'resnet', depth: 8 }), [8, 8, 3], 4);
    const rng = new Rng(5);
    const params = unflattenParams(model.initParams(rng.fork('p')), model.specs);
    const target = oneHot([1], 4);
    const trueGrads = parameterGradients(model, params, randomTensor(rng.fork('x0'), [1, 8, 8, 3]) as Tensor4D, target);
    const f = (x: Tensor): Tensor =>
      tf.tidy(() => cosineGradientDistance(parameterGradients(model, params, x as Tensor4D, target), trueGrads));
    // A small step: on 2×2 feature maps batch norm bends the objective sharply (h = 1e-2 is already off).
    const checks = directionalChecks(f, [randomTensor(rng.fork('x'), [1, 8, 8, 3])], rng.fork('d'), 4, 1e-3);
    for (const c of checks) expect(Math.abs(c.analytic - c.numeric)).to.be.below(0.03 * Math.abs(c.analytic) + c.noise);
  });

  it('resnet and convnet-ig have the published PyTorch sizes (trainable parameters, 10 classes, 32×32×3)', () => {
    const trainable = (config: Record<string, unknown>) => {
      const m = buildModel(modelSchema.parse(config), [32, 32, 3], 10);
      return paramCount(m.specs.filter((_s, i) => !m.stateParams.includes(i)));
    };
    // ResNet-20 with 1×1-conv shortcuts 272,474; ResNet-18 (CIFAR variant) 11,173,962.
    expect(trainable({ name: 'resnet', depth: 20 })).to.equal(272474);
    expect(trainable({ name: 'resnet', depth: 18 })).to.equal(11173962);
    expect(trainable({ name: 'resnet', depth: 8 })).to.equal(78042);
    // inversefed ConvNet(width=64): 8 convs with bias + 8 BN + Linear(36·64 → 10).
    expect(trainable({ name: 'convnet-ig' })).to.equal(2904970);
  });
});
