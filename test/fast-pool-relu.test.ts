/**
 * fedleak's max-pooling kernels (MaxPool, MaxPoolGrad, MaxPoolWithArgmax) and Relu / Step against
 * the stock tfjs cpu kernels they replace: bit-identical outputs over pool sizes, strides,
 * 'valid'/'same'/numeric padding and batch sizes, on values with many ties (the first maximum must
 * win, as in tfjs), on windows that lie partly in the padding, and on NaN, ±0 and ±∞; and the lean
 * ReLU gradient, once and twice differentiated.
 */
import { expect } from 'chai';
import { tf, type Tensor } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { Rng } from '../shared/random';
import { FAST_KERNEL_NAMES, fastKernel, stockKernel, type FastKernelName } from '../shared/tensor/fast-kernels';

type Attrs = Record<string, unknown>;

function outputs(fn: tf.KernelConfig['kernelFunc'], inputs: Record<string, Tensor>, attrs: Attrs): { shape: number[]; values: number[] }[] {
  const backend = tf.backend();
  const out = fn({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  return (Array.isArray(out) ? out : [out]).map((t) => {
    const values = Array.from(backend.readSync(t.dataId) as ArrayLike<number>);
    backend.disposeData(t.dataId);
    return { shape: [...t.shape], values };
  });
}

function expectIdentical(name: FastKernelName, inputs: Record<string, Tensor>, attrs: Attrs, label: string): void {
  const want = outputs(stockKernel(name).kernelFunc, inputs, attrs);
  const got = outputs(fastKernel(name), inputs, attrs);
  expect(got.length, `${label}: outputs`).to.equal(want.length);
  got.forEach((g, k) => {
    expect(g.shape, `${label}: output ${k} shape`).to.deep.equal(want[k].shape);
    const bad = g.values.findIndex((v, i) => !Object.is(v, want[k].values[i]));
    if (bad >= 0) expect.fail(`${label}: output ${k} element ${bad} is ${g.values[bad]}, the stock kernel gives ${want[k].values[bad]}`);
  });
}

interface PoolCase {
  shape: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: 'valid' | 'same' | number;
}

/** Quantised to a few levels so that windows hold ties. */
function tiedValues(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.round(rng.normal() * 2) / 2);
}

describe('fast max-pooling, Relu and Step kernels vs stock tfjs kernels', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('are registered on the cpu backend', () => {
    for (const name of ['MaxPool', 'MaxPoolGrad', 'MaxPoolWithArgmax', 'Relu', 'Step'] as const) {
      expect(FAST_KERNEL_NAMES).to.include(name);
      expect(tf.getKernel(name, 'cpu')?.kernelFunc).to.equal(fastKernel(name));
    }
  });

  it('MaxPool, MaxPoolGrad and MaxPoolWithArgmax are bit-identical, ties and padding included', () => {
    const rng = new Rng(7);
    const cases: PoolCase[] = [];
    for (const pad of ['valid', 'same', 1] as const)
      for (const [fh, fw] of [
        [2, 2],
        [3, 3],
        [3, 2],
      ] as const)
        for (const [sh, sw] of [
          [1, 1],
          [2, 2],
          [2, 1],
        ] as const) {
          if (typeof pad === 'number' && (pad >= fh || pad >= fw)) continue;
          cases.push({
            shape: [1 + rng.int(3), 5 + rng.int(4), 5 + rng.int(4), 1 + rng.int(4)],
            filterSize: [fh, fw],
            strides: [sh, sw],
            pad,
          });
        }
    for (const c of cases) {
      const label = JSON.stringify(c);
      const n = c.shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor4d(tiedValues(rng, n), c.shape);
      const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
      expectIdentical('MaxPool', { x }, attrs, `MaxPool ${label}`);
      const output = tf.maxPool(x, c.filterSize, c.strides, c.pad);
      const dy = tf.tensor(rng.fillNormal(new Float32Array(output.size)), output.shape);
      expectIdentical('MaxPoolGrad', { dy, input: x, output }, attrs, `MaxPoolGrad ${label}`);
      if (typeof c.pad === 'number') {
        tf.dispose([x, output, dy]);
        continue; // tfjs's maxPoolWithArgmax takes 'valid' or 'same' only
      }
      for (const includeBatchInIndex of [true, false])
        expectIdentical(
          'MaxPoolWithArgmax',
          { x },
          { ...attrs, includeBatchInIndex },
          `MaxPoolWithArgmax ${label} batch index ${includeBatchInIndex}`,
        );
      tf.dispose([x, output, dy]);
    }
  });

  it('a window of −∞ only has no maximum position and passes no gradient, as in tfjs', () => {
    const x = tf.tensor4d([-Infinity, -Infinity, -Infinity, -Infinity, 1, 2, 3, 4], [1, 2, 4, 1]);
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
    const output = tf.maxPool(x, 2, 2, 'valid');
    const dy = tf.onesLike(output);
    expectIdentical('MaxPool', { x }, attrs, 'MaxPool −∞');
    expectIdentical('MaxPoolGrad', { dy, input: x, output }, attrs, 'MaxPoolGrad −∞');
    expectIdentical('MaxPoolWithArgmax', { x }, { ...attrs, includeBatchInIndex: true }, 'MaxPoolWithArgmax −∞');
    tf.dispose([x, output, dy]);
  });

  it('Relu and Step are bit-identical on NaN, ±0, ±∞ and random values', () => {
    const special = [NaN, 0, -0, Infinity, -Infinity, 1e-30, -1e-30];
    const x = tf.tensor1d([...special, ...new Rng(3).fillNormal(new Float32Array(300))]);
    expectIdentical('Relu', { x }, {}, 'Relu');
    for (const alpha of [0, 0.25]) expectIdentical('Step', { x }, { alpha }, `Step alpha ${alpha}`);
    x.dispose();
  });

  it('the ReLU gradient and its gradient are dy·step(x) and 0', () => {
    const xs = [-2, -0.5, 0.5, 3];
    const w = tf.tensor1d([1.5, -2, 0.25, 4]);
    const x = tf.tensor1d(xs);
    // f = Σ w·relu(x)²: f' = 2w·relu(x)·step(x); the gradient of Σ f' w.r.t. x is 2w·step(x) (step' = 0).
    const f = (v: Tensor) => tf.sum(tf.mul(w, tf.square(tf.relu(v))));
    const first = tf.grad(f)(x);
    const second = tf.grad((v: Tensor) => tf.sum(tf.grad(f)(v)))(x);
    const wv = [1.5, -2, 0.25, 4];
    const plain = (t: Tensor) => Array.from(t.dataSync(), (v) => v + 0); // −0 (a negative weight times 0) as 0
    expect(plain(first)).to.deep.equal(xs.map((v, i) => (v > 0 ? 2 * wv[i] * v : 0)));
    expect(plain(second)).to.deep.equal(xs.map((v, i) => (v > 0 ? 2 * wv[i] : 0)));
    tf.dispose([w, x, first, second]);
  });
});
