import { expect } from 'chai';
import { initBackend } from '../shared/tensor/backend';
import { tf } from '../shared/tensor/tf';
import { Rng } from '../shared/random';
import { buildModel, flattenParams, unflattenParams, paramCount, splitFlat } from '../shared/models';
import { modelSchema } from '../server/scenario/schema';
import type { ImageShape } from '../shared/models';

describe('models', () => {
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('lenet-zhu has the DLG paper shapes for 32×32×3 and 28×28×1', () => {
    const cifar = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), [32, 32, 3], 10);
    expect(cifar.specs.map((s) => s.shape)).to.deep.equal([
      [5, 5, 3, 12],
      [12],
      [5, 5, 12, 12],
      [12],
      [5, 5, 12, 12],
      [12],
      [768, 10],
      [10],
    ]);
    const mnist = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), [28, 28, 1], 10);
    expect(mnist.specs[6].shape).to.deep.equal([588, 10]);
  });

  it('initialises lenet-zhu uniform(−0.5, 0.5), deterministically from the seed', () => {
    const model = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), [28, 28, 1], 10);
    const a = model.initParams(new Rng(7));
    const b = model.initParams(new Rng(7));
    const c = model.initParams(new Rng(8));
    expect(a.length).to.equal(paramCount(model.specs));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).to.equal(false);
    expect(Math.max(...a))
      .to.be.below(0.5)
      .and.above(0.45);
    expect(Math.min(...a))
      .to.be.at.least(-0.5)
      .and.below(-0.45);
  });

  const configs: [string, object, ImageShape][] = [
    ['lenet-zhu', { name: 'lenet-zhu' }, [28, 28, 1]],
    ['mlp', { name: 'mlp', hidden: [32, 16], activation: 'sigmoid' }, [8, 8, 1]],
    ['convnet', { name: 'convnet', channels: [4, 6], pool: true, hidden: [10] }, [12, 12, 3]],
  ];
  for (const [label, config, shape] of configs) {
    it(`${label}: flatten/unflatten round trip is exact and logits have shape [batch, classes]`, () => {
      const model = buildModel(modelSchema.parse(config), shape, 7);
      const flat = model.initParams(new Rng(3));
      const tensors = unflattenParams(flat, model.specs);
      const back = flattenParams(tensors, model.specs);
      expect(Buffer.from(back.buffer).equals(Buffer.from(flat.buffer))).to.equal(true);
      const parts = splitFlat(flat, model.specs);
      expect(parts.map((p) => p.length)).to.deep.equal(model.specs.map((s) => s.shape.reduce((a, b) => a * b, 1)));
      const x = tf.randomUniform([3, ...shape]) as tf.Tensor4D;
      const logits = model.apply(tensors, x);
      expect(logits.shape).to.deep.equal([3, 7]);
      tf.dispose([...tensors, x, logits]);
    });
  }

  it('rejects a flat vector of the wrong length, naming both lengths', () => {
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [4] }), [2, 2, 1], 3);
    expect(() => unflattenParams(new Float32Array(5), model.specs)).to.throw(/has 5 values, the model needs 35/);
  });

  it('rejects a convnet whose input is too small for its layers', () => {
    expect(() => buildModel(modelSchema.parse({ name: 'convnet', channels: [4, 4, 4], pool: true }), [4, 4, 1], 2)).to.throw(/too small/);
  });
});

describe('tensor backend', () => {
  it('reports the backend in use, and it is the one tfjs runs on', async () => {
    const info = await initBackend({ quiet: true });
    expect(['cpu', 'tensorflow', 'wasm']).to.include(info.name);
    expect(tf.getBackend()).to.equal(info.name);
    expect(info.tfjsVersion).to.match(/^\d+\.\d+\.\d+/);
  });
});

describe('seeded randomness', () => {
  it('repeats a stream for a seed, forks independent named streams', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).to.deep.equal(xs);
    const f1 = new Rng(123).fork('client-1').next();
    const f2 = new Rng(123).fork('client-2').next();
    expect(f1).to.not.equal(f2);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const rng = new Rng(5);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    expect(sum / n).to.be.closeTo(0, 0.03);
    expect(sq / n - (sum / n) ** 2).to.be.closeTo(1, 0.04);
  });
});
