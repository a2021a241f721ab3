/**
 * The fast kernels real networks (max pooling, ReLU, batch norm's means) need, against the stock
 * tfjs cpu kernels they replace: MaxPool, MaxPoolGrad, MaxPoolWithArgmax bit-identical over pool
 * sizes, strides, 'valid'/'same'/numeric padding and batch sizes, on values with many ties (the
 * first maximum must win, as in tfjs) and windows partly in the padding; Relu and Step on NaN, ±0,
 * ±∞; Mean over every set of axes; and the lean ReLU and Mean gradients, once and twice differentiated.
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

describe('fast max-pooling, Relu, Step and Mean kernels vs stock tfjs kernels', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('are registered on the cpu backend', () => {
    for (const name of ['MaxPool', 'MaxPoolGrad', 'MaxPoolWithArgmax', 'Relu', 'Step', 'Mean'] as const) {
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

  it('Mean is bit-identical over every set of axes, with and without keepDims', () => {
    const rng = new Rng(11);
    const x = tf.tensor4d(rng.fillNormal(new Float32Array(3 * 5 * 4 * 6)), [3, 5, 4, 6]);
    for (let mask = 1; mask < 16; mask++) {
      const axis = [0, 1, 2, 3].filter((a) => mask & (1 << a));
      for (const keepDims of [false, true]) expectIdentical('Mean', { x }, { axis, keepDims }, `Mean axes [${axis}] keepDims ${keepDims}`);
    }
    x.dispose();
  });

  it("the Mean gradient is tfjs's (dy / count at every reduced position), and its gradient too", () => {
    const rng = new Rng(5);
    const x = tf.tensor4d(rng.fillNormal(new Float32Array(2 * 3 * 3 * 4)), [2, 3, 3, 4]);
    // Batch norm's variance: mean((x − mean(x))²) over N, H, W; its gradient is 2(x − μ)/count per channel (the μ term sums to 0).
    const variance = (v: Tensor) => tf.sum(tf.mul(tf.mean(tf.square(tf.sub(v, tf.mean(v, [0, 1, 2]))), [0, 1, 2]), [1, 2, 3, 4]));
    const got = tf.grad(variance)(x);
    const want = tf.tidy(() => tf.mul(tf.sub(x, tf.mean(x, [0, 1, 2])), tf.div(tf.mul(2, tf.tensor1d([1, 2, 3, 4])), 18)));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]);
    expect(diff).to.be.below(1e-6);
    // d/dx Σ (gradient · w) for a fixed w against central differences.
    const w = tf.tensor4d(rng.fillNormal(new Float32Array(x.size)), x.shape);
    const inner = (v: Tensor) => tf.sum(tf.mul(tf.grad(variance)(v), w));
    const second = tf.grad(inner)(x).dataSync();
    const xv = x.dataSync();
    for (const i of [0, 7, 20, 71]) {
      const at = (d: number) =>
        tf.tidy(
          () =>
            inner(
              tf.tensor4d(
                xv.map((v, j) => (j === i ? v + d : v)),
                x.shape as [number, number, number, number],
              ),
            ).dataSync()[0],
        );
      const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
      expect(second[i], `element ${i}`).to.be.closeTo(fd, 1e-3 * Math.max(1, Math.abs(fd)));
    }
    tf.dispose([x, got, want, w]);
  });
});
