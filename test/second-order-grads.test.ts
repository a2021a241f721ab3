/**
 * Double backprop through the three models, checked against central finite differences.
 *
 * float32 finite differences are noisy, so each check compares the analytic directional
 * derivative ⟨∇f, d⟩ along a few random unit directions d with (f(z + h·d) − f(z − h·d)) / 2h.
 * The tolerance (a few % of the derivative's size) still catches a flipped sign, a missing term
 * or a padding off by one: each of those moves the derivative by tens of %.
 */
import { expect } from 'chai';
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { Rng } from '../shared/random';
import { buildModel, unflattenParams, oneHot, type Model } from '../shared/models';
import type { ModelConfig } from '../server/scenario/schema';
import { modelSchema } from '../server/scenario/schema';
import { parameterGradients, squaredGradientDistance } from '../server/observer/gradient-matching';
import { directionalChecks, dot, expectClose, normalise, randomTensor, scalarOf, unitDirection } from './fixtures/finite-differences';

/** DLG objective as a function of dummy images and dummy label logits. */
function dlgObjective(model: Model, params: Tensor[], trueGrads: Tensor[]) {
  return (x: Tensor, y: Tensor): Tensor =>
    tf.tidy(() => {
      const g = parameterGradients(model, params, x as Tensor4D, tf.softmax(y as Tensor2D) as Tensor2D);
      return squaredGradientDistance(g, trueGrads);
    });
}

interface Case {
  name: string;
  config: Partial<ModelConfig>;
  shape: [number, number, number];
  init?: { kind: 'uniform'; range: number };
}

const CASES: Case[] = [
  { name: 'lenet-zhu (12×12×3, stride 2/2/1, pad 2, sigmoid)', config: { name: 'lenet-zhu' }, shape: [12, 12, 3] },
  { name: 'lenet-zhu (odd 11×11×1)', config: { name: 'lenet-zhu' }, shape: [11, 11, 1] },
  { name: 'mlp relu', config: { name: 'mlp', hidden: [16, 8], activation: 'relu' }, shape: [6, 6, 1] },
  { name: 'mlp sigmoid', config: { name: 'mlp', hidden: [12], activation: 'sigmoid' }, shape: [5, 5, 2] },
  { name: 'mlp tanh', config: { name: 'mlp', hidden: [12], activation: 'tanh' }, shape: [5, 5, 2] },
  {
    name: 'convnet relu + avg pool',
    config: { name: 'convnet', channels: [4, 6], kernelSize: 3, stride: 1, padding: 1, pool: true, hidden: [10], activation: 'relu' },
    shape: [8, 8, 2],
  },
  {
    name: 'convnet sigmoid, stride 2, pad 0, avg pool',
    config: { name: 'convnet', channels: [5], kernelSize: 3, stride: 2, padding: 0, pool: true, hidden: [], activation: 'sigmoid' },
    shape: [11, 11, 2],
    init: { kind: 'uniform', range: 0.5 },
  },
];

describe('second-order gradients (double backprop vs finite differences)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  for (const c of CASES) {
    it(`DLG objective gradient w.r.t. dummy image and label: ${c.name}`, () => {
      tf.tidy(() => {
        const rng = new Rng(1234);
        const config = modelSchema.parse({ ...c.config, ...(c.init ? { init: c.init } : {}) });
        const model = buildModel(config, c.shape, 4);
        const params = unflattenParams(model.initParams(rng.fork('params')), model.specs);
        const x0 = tf.tensor(rng.fork('x').fillUniform(new Float32Array(c.shape[0] * c.shape[1] * c.shape[2]), 0, 1), [
          1,
          ...c.shape,
        ]) as Tensor4D;
        const trueGrads = parameterGradients(model, params, x0, oneHot([1], 4));
        const f = dlgObjective(model, params, trueGrads);
        const x = randomTensor(rng.fork('dx'), [1, ...c.shape], 0.5);
        const y = randomTensor(rng.fork('dy'), [1, 4]);
        expect(scalarOf(f(x, y))).to.be.above(0);
        expectClose(directionalChecks(f, [x, y], rng.fork('dirs'), 4, 1e-2), 0.03, c.name);
      });
    });
  }

  it('DLG objective gradient for a batch of two (lenet-zhu, 8×8×1)', () => {
    tf.tidy(() => {
      const rng = new Rng(99);
      const model = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), [8, 8, 1], 3);
      const params = unflattenParams(model.initParams(rng.fork('params')), model.specs);
      const x0 = tf.tensor(rng.fork('x').fillUniform(new Float32Array(2 * 64), 0, 1), [2, 8, 8, 1]) as Tensor4D;
      const trueGrads = parameterGradients(model, params, x0, oneHot([0, 2], 3));
      const f = dlgObjective(model, params, trueGrads);
      const checks = directionalChecks(f, [randomTensor(rng, [2, 8, 8, 1], 0.5), randomTensor(rng, [2, 3])], rng.fork('dirs'), 3, 1e-2);
      expectClose(checks, 0.03, 'batch of two');
    });
  });

  // Hessian-vector products of f(x, W) = Σ sigmoid(conv2d(x, W))²: H·v = ∇⟨∇f, v⟩ against
  // (∇f(z + h v) − ∇f(z − h v)) / 2h, projected on a second random direction.
  const PADDINGS: Array<{
    label: string;
    stride: number;
    pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  }> = [
    { label: 'stride 1, same', stride: 1, pad: 'same' },
    { label: 'stride 2, same (asymmetric padding)', stride: 2, pad: 'same' },
    { label: 'stride 2, valid', stride: 2, pad: 'valid' },
    { label: 'stride 2, numeric 2', stride: 2, pad: 2 },
    {
      label: 'stride 1, explicit [1,2]×[2,0]',
      stride: 1,
      pad: [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
    },
  ];
  for (const p of PADDINGS) {
    it(`Hessian-vector product of a conv function: ${p.label}`, () => {
      tf.tidy(() => {
        const rng = new Rng(7);
        const x = randomTensor(rng, [2, 7, 8, 2]);
        const w = randomTensor(rng, [3, 3, 2, 3], 0.5);
        const f = (a: Tensor, b: Tensor) => tf.sum(tf.square(tf.sigmoid(tf.conv2d(a as Tensor4D, b as Tensor4D, p.stride, p.pad))));
        const gradF = (a: Tensor, b: Tensor) => tf.grads(f)([a, b]);
        const v = unitDirection(rng, [x.shape, w.shape]);
        const hv = tf.grads((a: Tensor, b: Tensor) => {
          const [ga, gb] = gradF(a, b);
          return tf.add(tf.sum(tf.mul(ga, v[0])), tf.sum(tf.mul(gb, v[1])));
        })([x, w]);
        const h = 1e-2;
        const gp = gradF(tf.add(x, tf.mul(v[0], h)), tf.add(w, tf.mul(v[1], h)));
        const gm = gradF(tf.sub(x, tf.mul(v[0], h)), tf.sub(w, tf.mul(v[1], h)));
        const fdHv = gp.map((g, i) => tf.div(tf.sub(g, gm[i]), 2 * h));
        // Rounding of the two gradients (accumulated sums, so a few dozen ulps of their norm).
        const noise = (32 * Math.sqrt(Math.max(dot(gp, gp), dot(gm, gm))) * 2 ** -24) / h;
        for (let k = 0; k < 3; k++) {
          const u = k === 0 ? normalise(hv) : unitDirection(rng, [x.shape, w.shape]);
          expectClose([{ analytic: dot(hv, u), numeric: dot(fdHv, u), noise }], 0.03, `HVP ${p.label}`);
        }
      });
    });
  }

  it('a double-backprop evaluation leaves no tensors behind and keeps its inputs alive', () => {
    const rng = new Rng(5);
    const model = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), [8, 8, 1], 3);
    const params = unflattenParams(model.initParams(rng), model.specs);
    const x0 = randomTensor(rng, [1, 8, 8, 1]) as Tensor4D;
    const trueGrads = tf.tidy(() => parameterGradients(model, params, x0, oneHot([1], 3)));
    const x = randomTensor(rng, [1, 8, 8, 1]);
    const y = randomTensor(rng, [1, 3]);
    const f = dlgObjective(model, params, trueGrads);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const { value, grads } = tf.valueAndGrads(f)([x, y]);
      tf.dispose([value, ...grads]);
    }
    expect(tf.memory().numTensors).to.equal(before);
    // Saved inputs were released by reference, not disposed: everything is still readable.
    for (const t of [...params, ...trueGrads, x, y, x0]) expect(t.isDisposed).to.equal(false);
    expect(Array.from(params[0].dataSync()).every(Number.isFinite)).to.equal(true);
    tf.dispose([...params, ...trueGrads, x, y, x0]);
  });

  it('AvgPoolGrad and Conv2DBackpropFilter have registered gradients', () => {
    // Without the registration, tf.grad of a function calling tf.grads through these kernels throws.
    const x = tf.randomNormal([1, 4, 4, 1]) as Tensor4D;
    const w = tf.randomNormal([2, 2, 1, 1]) as Tensor4D;
    const f = (a: Tensor) => {
      const [gw] = tf.grads((b: Tensor) => tf.sum(tf.avgPool(tf.conv2d(a as Tensor4D, b as Tensor4D, 1, 'same'), 2, 2, 'valid')))([w]);
      return tf.sum(tf.square(gw));
    };
    const g = tf.grad(f)(x);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).to.equal(true);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).to.equal(true);
  });
});
