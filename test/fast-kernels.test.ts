/**
 * fedleak's fast cpu kernels against the stock tfjs kernels they replace, on random shapes,
 * strides, paddings and batch sizes. Correctness only. Both conv implementations (WebAssembly
 * SIMD GEMM and plain TypeScript) are checked.
 */
import { expect } from 'chai';
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { Rng } from '../shared/random';
import {
  FAST_KERNEL_NAMES,
  fastKernel,
  sigmoidBackward,
  softCrossEntropyFused,
  squaredDistance,
  getConvImpl,
  setConvImpl,
  stockKernel,
  withStockCpuKernels,
  type ConvImpl,
  type FastKernelName,
} from '../shared/tensor/fast-kernels';
import { buildModel, oneHot, softCrossEntropy, unflattenParams } from '../shared/models';
import { modelSchema } from '../server/scenario/schema';
import { parameterGradients, squaredGradientDistance } from '../server/observer/gradient-matching';

type Attrs = Record<string, unknown>;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function randn(rng: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillNormal(new Float32Array(n)), shape);
}

/** Runs one kernel function directly on the cpu backend and returns its output values. */
function run(fn: tf.KernelConfig['kernelFunc'], inputs: Record<string, Tensor>, attrs: Attrs): { shape: number[]; values: Float32Array } {
  const backend = tf.backend();
  const out = fn({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const values = Float32Array.from(backend.readSync(out.dataId) as Float32Array);
  const shape = [...out.shape];
  backend.disposeData(out.dataId);
  return { shape, values };
}

/** Max |fast − stock| must be a float32 rounding difference relative to the values' size. */
function expectSame(name: FastKernelName, inputs: Record<string, Tensor>, attrs: Attrs, label: string): void {
  const want = run(stockKernel(name).kernelFunc, inputs, attrs);
  const got = run(fastKernel(name), inputs, attrs);
  expect(got.shape, `${label}: shape`).to.deep.equal(want.shape);
  let scale = 1;
  for (const v of want.values) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.values.length; i++) {
    const err = Math.abs(got.values[i] - want.values[i]);
    if (!(err <= 2e-5 * scale)) {
      expect.fail(`${label}: element ${i} is ${got.values[i]}, stock kernel gives ${want.values[i]}`);
    }
  }
}

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
  fh: number;
  fw: number;
  stride: number | [number, number];
  pad: Pad;
}

function outSize(size: number, f: number, s: number, pad: Pad, lo: number, hi: number): number {
  if (pad === 'same') return Math.ceil(size / s);
  if (pad === 'valid') return Math.ceil((size - f + 1) / s);
  return Math.floor((size + lo + hi - f) / s) + 1;
}

/** Random conv problems: odd sizes, every padding kind, strides 1–3, batch 1–3, channels not multiples of 4. */
function convCases(rng: Rng, count: number): ConvCase[] {
  const fixed: ConvCase[] = [
    { batch: 1, h: 32, w: 32, inC: 3, outC: 12, fh: 5, fw: 5, stride: 2, pad: 2 },
    { batch: 1, h: 16, w: 16, inC: 12, outC: 12, fh: 5, fw: 5, stride: 2, pad: 2 },
    { batch: 1, h: 8, w: 8, inC: 12, outC: 12, fh: 5, fw: 5, stride: 1, pad: 2 },
    { batch: 2, h: 28, w: 28, inC: 1, outC: 12, fh: 5, fw: 5, stride: 2, pad: 2 },
    { batch: 3, h: 7, w: 9, inC: 2, outC: 5, fh: 3, fw: 3, stride: 2, pad: 'same' },
    { batch: 1, h: 8, w: 8, inC: 3, outC: 4, fh: 3, fw: 2, stride: 2, pad: 'same' },
    { batch: 2, h: 9, w: 7, inC: 3, outC: 7, fh: 3, fw: 3, stride: [2, 1], pad: 'valid' },
    {
      batch: 1,
      h: 6,
      w: 7,
      inC: 2,
      outC: 3,
      fh: 3,
      fw: 3,
      stride: 1,
      pad: [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
    },
    { batch: 1, h: 1, w: 1, inC: 1, outC: 1, fh: 1, fw: 1, stride: 1, pad: 'valid' },
  ];
  const pads: Pad[] = ['same', 'valid', 0, 1, 2];
  const out = [...fixed];
  while (out.length < fixed.length + count) {
    const fh = 1 + rng.int(5);
    const fw = 1 + rng.int(5);
    const c: ConvCase = {
      batch: 1 + rng.int(3),
      h: 1 + rng.int(12),
      w: 1 + rng.int(12),
      inC: 1 + rng.int(6),
      outC: 1 + rng.int(9),
      fh,
      fw,
      stride: 1 + rng.int(3),
      pad: pads[rng.int(pads.length)],
    };
    const s = typeof c.stride === 'number' ? c.stride : c.stride[0];
    const p = typeof c.pad === 'number' ? c.pad : 0;
    if (outSize(c.h, fh, s, c.pad, p, p) < 1 || outSize(c.w, fw, s, c.pad, p, p) < 1) continue;
    out.push(c);
  }
  return out;
}

function convLabel(c: ConvCase): string {
  return `x [${c.batch},${c.h},${c.w},${c.inC}] filter [${c.fh},${c.fw},${c.inC},${c.outC}] stride ${JSON.stringify(c.stride)} pad ${JSON.stringify(c.pad)}`;
}

describe('fast cpu kernels vs stock tfjs kernels', function () {
  this.timeout(60000);
  let initialImpl: ConvImpl | undefined;
  before(async function () {
    const info = await initBackend({ quiet: true });
    // Nothing to compare under FEDLEAK_STOCK_KERNELS=1 or another backend.
    if (info.name !== 'cpu' || !info.fastKernels) this.skip();
    initialImpl = getConvImpl();
  });
  after(() => {
    if (initialImpl) setConvImpl(initialImpl);
  });

  it('replaces every listed kernel on the cpu backend', () => {
    for (const name of FAST_KERNEL_NAMES) {
      expect(tf.getKernel(name, 'cpu')?.kernelFunc, name).to.equal(fastKernel(name));
      expect(stockKernel(name).kernelFunc, name).to.not.equal(fastKernel(name));
    }
  });

  for (const impl of ['wasm', 'js'] as const) {
    describe(`conv kernels (${impl})`, () => {
      before(() => setConvImpl(impl));
      const cases = convCases(new Rng(impl === 'wasm' ? 11 : 12), 40);

      it('Conv2D', () => {
        const rng = new Rng(1);
        for (const c of cases) {
          tf.tidy(() => {
            const x = randn(rng, [c.batch, c.h, c.w, c.inC]);
            const filter = randn(rng, [c.fh, c.fw, c.inC, c.outC]);
            expectSame(
              'Conv2D',
              { x, filter },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1 },
              `Conv2D ${convLabel(c)}`,
            );
          });
        }
      });

      it('Conv2DBackpropInput', () => {
        const rng = new Rng(2);
        for (const c of cases) {
          tf.tidy(() => {
            const x = randn(rng, [c.batch, c.h, c.w, c.inC]);
            const filter = randn(rng, [c.fh, c.fw, c.inC, c.outC]);
            const y = tf.conv2d(x as Tensor4D, filter as Tensor4D, c.stride, c.pad);
            const dy = randn(rng, y.shape);
            const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape };
            expectSame('Conv2DBackpropInput', { dy, filter }, attrs, `Conv2DBackpropInput ${convLabel(c)}`);
          });
        }
      });

      it('Conv2DBackpropFilter', () => {
        const rng = new Rng(3);
        for (const c of cases) {
          tf.tidy(() => {
            const x = randn(rng, [c.batch, c.h, c.w, c.inC]);
            const filter = randn(rng, [c.fh, c.fw, c.inC, c.outC]);
            const y = tf.conv2d(x as Tensor4D, filter as Tensor4D, c.stride, c.pad);
            const dy = randn(rng, y.shape);
            const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: filter.shape };
            expectSame('Conv2DBackpropFilter', { x, dy }, attrs, `Conv2DBackpropFilter ${convLabel(c)}`);
          });
        }
      });
    });
  }

  it('conv kernels hand dilated convolutions to the stock kernel', () => {
    tf.tidy(() => {
      const rng = new Rng(4);
      const x = randn(rng, [1, 9, 9, 2]);
      const filter = randn(rng, [3, 3, 2, 3]);
      expectSame('Conv2D', { x, filter }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 }, 'dilated Conv2D');
    });
  });

  const BROADCASTS: Array<[number[], number[]]> = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [[4], [2, 3, 4]],
    [[1, 16, 16, 12], [12]],
    [[2, 3, 4], []],
    [[], [5]],
    [[], []],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [
      [5, 1],
      [1, 6],
    ],
    [
      [3, 1, 5],
      [3, 4, 1],
    ],
    [
      [1, 10],
      [7, 10],
    ],
    [
      [7, 1],
      [7, 10],
    ],
    [
      [2, 3, 1, 5],
      [1, 3, 4, 1],
    ],
    [[1], [3, 3]],
    [[0, 3], [3]],
    // Large enough for the WebAssembly path (≥ 256 outputs), with a scalar tail (sizes not ÷ 4).
    [
      [17, 31],
      [17, 31],
    ],
    [
      [1, 16, 16, 12],
      [1, 16, 16, 12],
    ],
    [[301], []],
    [[], [2, 129]],
    [[1], [259]],
    [[259, 1], [1]],
  ];
  for (const name of ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference'] as const) {
    it(`${name} with broadcasting`, () => {
      const rng = new Rng(5);
      for (const [sa, sb] of BROADCASTS) {
        tf.tidy(() => {
          const a = randn(rng, sa);
          // Keep divisors away from zero so that RealDiv compares finite numbers.
          const b = name === 'RealDiv' ? tf.add(tf.abs(randn(rng, sb)), 0.5) : randn(rng, sb);
          expectSame(name, { a, b }, {}, `${name} [${sa}] with [${sb}]`);
        });
      }
    });
  }

  it('binary kernels hand int32 to the stock kernel', () => {
    tf.tidy(() => {
      const a = tf.tensor([1, 2, 3], [3], 'int32');
      const b = tf.tensor([4], [1], 'int32');
      expect(Array.from(tf.mul(a, b).dataSync())).to.deep.equal([4, 8, 12]);
      expect(tf.mul(a, b).dtype).to.equal('int32');
    });
  });

  it('Sum over every combination of axes, with and without keepDims', () => {
    const rng = new Rng(9);
    const shapes = [[7], [3, 4], [2, 3, 5], [1, 6, 6, 5], [2, 1, 3, 4], [0, 3], [1]];
    for (const shape of shapes) {
      const rank = shape.length;
      for (let mask = 0; mask < 1 << rank; mask++) {
        const axis = [...Array(rank).keys()].filter((i) => mask & (1 << i));
        for (const keepDims of [false, true]) {
          tf.tidy(() => {
            const x = randn(rng, shape);
            expectSame('Sum', { x }, { axis, keepDims }, `Sum [${shape}] axes [${axis}] keepDims ${keepDims}`);
          });
        }
      }
    }
    tf.tidy(() => expectSame('Sum', { x: randn(rng, [3, 4, 5]) }, { axis: -1, keepDims: false }, 'Sum negative axis'));
  });

  it('Sigmoid and Neg', () => {
    tf.tidy(() => {
      const x = tf.mul(randn(new Rng(10), [3, 7, 5]), 10);
      expectSame('Sigmoid', { x }, {}, 'Sigmoid');
      // The WebAssembly path (≥ 256 elements, with a tail), across exp's whole range incl. clamping.
      const wide = tf.mul(randn(new Rng(11), [1, 17, 17, 3]), 15);
      expectSame('Sigmoid', { x: wide }, {}, 'Sigmoid (wasm)');
      const extremes = tf.tensor([
        -200,
        -88,
        -87.5,
        -20,
        -1e-3,
        0,
        1e-3,
        20,
        87.5,
        88,
        200,
        ...Array.from({ length: 250 }, (_, i) => i / 10 - 12.5),
      ]);
      expectSame('Sigmoid', { x: extremes }, {}, 'Sigmoid extremes');
      expectSame('Neg', { x }, {}, 'Neg');
      expectSame('Neg', { x: tf.scalar(2.5) }, {}, 'Neg of a scalar');
    });
  });

  it('Slice and PadV2 on random boxes of rank 1–5 (whole and partial axes, size −1, zero-size, int32 to stock)', () => {
    const rng = new Rng(12);
    const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
    for (let trial = 0; trial < 60; trial++) {
      tf.tidy(() => {
        const rank = int(1, 5);
        const shape = Array.from({ length: rank }, () => int(1, 5));
        const x = randn(rng, shape);
        // Every other trial keeps trailing axes whole, the case the copy folds into longer rows.
        const begin = shape.map((d, i) => (trial % 2 === 0 && i > 0 ? 0 : int(0, d - 1)));
        const size: number[] = shape.map((d, i) => (trial % 2 === 0 && i > 0 ? d : int(0, d - begin[i])));
        if (trial % 3 === 0) size[rank - 1] = -1;
        expectSame('Slice', { x }, { begin, size }, `Slice ${shape} at ${begin} size ${size}`);
        const paddings = shape.map((_, i) => (trial % 2 === 0 && i > 0 ? [0, 0] : [int(0, 2), int(0, 2)]));
        expectSame('PadV2', { x }, { paddings, constantValue: trial % 4 === 0 ? 1.5 : 0 }, `PadV2 ${shape} by ${JSON.stringify(paddings)}`);
      });
    }
    tf.tidy(() => {
      const x = randn(rng, [2, 3]);
      expectSame('Slice', { x }, { begin: 1, size: 1 }, 'Slice with a number begin and size');
      const ints = tf.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [2, 3],
        'int32',
      );
      const got = run(fastKernel('Slice'), { x: ints }, { begin: [0, 1], size: [2, 2] });
      expect(Array.from(got.values)).to.deep.equal([2, 3, 5, 6]);
      const padded = run(
        fastKernel('PadV2'),
        { x: ints },
        {
          paddings: [
            [1, 0],
            [0, 1],
          ],
          constantValue: 7,
        },
      );
      expect(Array.from(padded.values)).to.deep.equal([7, 7, 7, 7, 1, 2, 3, 7, 4, 5, 6, 7]);
      expect(() => run(fastKernel('Slice'), { x }, { begin: [1, 2], size: [2, 1] })).to.throw(/slice/i);
    });
  });

  it('fused squaredDistance, sigmoidBackward and soft cross-entropy match their composites, with gradients', () => {
    const rng = new Rng(12);
    const close = (got: Tensor, want: Tensor, label: string) => {
      const g = got.dataSync();
      const w = want.dataSync();
      expect(got.shape, label).to.deep.equal(want.shape);
      let scale = 1e-6;
      for (const v of w) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i]), `${label} element ${i}`).to.be.at.most(1e-5 * scale);
    };
    // Sizes on both sides of the wasm threshold (256), with and without a tail of < 4 elements.
    for (const shape of [[5, 5, 3, 12], [1, 768], [17, 31], [12], [1, 7, 7, 3]]) {
      tf.tidy(() => {
        const a = randn(rng, shape);
        const b = randn(rng, shape);
        const w = randn(rng, shape);
        close(squaredDistance(a, b), tf.sum(tf.squaredDifference(a, b)), `squaredDistance [${shape}]`);
        const fused = tf.grads((x: Tensor, y: Tensor) => tf.mul(squaredDistance(x, y), 3))([a, b]);
        const plain = tf.grads((x: Tensor, y: Tensor) => tf.mul(tf.sum(tf.squaredDifference(x, y)), 3))([a, b]);
        close(fused[0], plain[0], `squaredDistance grad a [${shape}]`);
        close(fused[1], plain[1], `squaredDistance grad b [${shape}]`);
        const y = tf.sigmoid(a);
        close(sigmoidBackward(y, b), tf.mul(b, tf.mul(y, tf.sub(1, y))), `sigmoidBackward [${shape}]`);
        const f1 = tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(sigmoidBackward(p, q), w)))([y, b]);
        const f2 = tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(tf.mul(q, tf.mul(p, tf.sub(1, p))), w)))([y, b]);
        close(f1[0], f2[0], `sigmoidBackward grad y [${shape}]`);
        close(f1[1], f2[1], `sigmoidBackward grad dy [${shape}]`);
      });
    }
    expect(() => squaredDistance(tf.zeros([2]), tf.zeros([3]))).to.throw(/shapes \[2\] and \[3\] differ/);

    // Soft cross-entropy: value, gradient, and the gradient of a function of the gradient (what
    // DLG differentiates), w.r.t. logits and soft targets, for batches of 1 and 3.
    for (const [rows, cols] of [
      [1, 10],
      [3, 4],
    ]) {
      tf.tidy(() => {
        const logits = tf.mul(randn(rng, [rows, cols]), 3) as Tensor2D;
        // Rows summing to 1.3 as well as to 1, so a dropped Σ_c t factor shows.
        const targets = tf.mul(tf.softmax(randn(rng, [rows, cols])), rows === 1 ? 1 : 1.3) as Tensor2D;
        const w = randn(rng, [rows, cols]);
        const fusedCe = (l: Tensor, t: Tensor) => softCrossEntropyFused(l, t) as Tensor;
        const plainCe = (l: Tensor, t: Tensor) => softCrossEntropy(l as Tensor2D, t as Tensor2D);
        close(fusedCe(logits, targets), plainCe(logits, targets), `softCE value ${rows}×${cols}`);
        for (const [i, name] of [
          [0, 'logits'],
          [1, 'targets'],
        ] as const) {
          const gf = tf.grads(fusedCe)([logits, targets])[i];
          const gp = tf.grads(plainCe)([logits, targets])[i];
          close(gf, gp, `softCE gradient w.r.t. ${name} ${rows}×${cols}`);
        }
        const outer = (ce: (l: Tensor, t: Tensor) => Tensor) =>
          tf.grads((l: Tensor, t: Tensor) => tf.sum(tf.mul(tf.grads((z: Tensor) => ce(z, t))([l])[0], w)))([logits, targets]);
        const [fl, ft] = outer(fusedCe);
        const [pl, pt] = outer(plainCe);
        close(fl, pl, `softCE second order w.r.t. logits ${rows}×${cols}`);
        close(ft, pt, `softCE second order w.r.t. targets ${rows}×${cols}`);
      });
    }
  });

  for (const impl of ['wasm', 'js'] as const)
    it(`BatchMatMul (${impl}) with every transpose combination and batch broadcasting`, () => {
      setConvImpl(impl);
      const rng = new Rng(6);
      const shapes: Array<[number, number, number, number, number]> = [
        // batchA, batchB, m, k, n
        [1, 1, 1, 768, 10],
        [1, 1, 5, 7, 3],
        [3, 3, 4, 5, 6],
        [3, 1, 4, 5, 6],
        [1, 2, 3, 1, 2],
        [2, 2, 1, 1, 1],
        [1, 1, 1, 10, 768],
        [1, 1, 768, 1, 10],
        [2, 1, 3, 13, 5],
        [1, 1, 2, 18, 3],
      ];
      for (const [ba, bb, m, k, n] of shapes) {
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            tf.tidy(() => {
              const a = randn(rng, [ba, ...(transposeA ? [k, m] : [m, k])]);
              const b = randn(rng, [bb, ...(transposeB ? [n, k] : [k, n])]);
              expectSame(
                'BatchMatMul',
                { a, b },
                { transposeA, transposeB },
                `BatchMatMul a [${a.shape}] b [${b.shape}] tA ${transposeA} tB ${transposeB}`,
              );
            });
          }
        }
      }
    });

  it('second-order DLG gradients are the same with fast and stock kernels', () => {
    if (initialImpl) setConvImpl(initialImpl);
    const configs = [
      { config: { name: 'lenet-zhu' }, shape: [12, 12, 3] as [number, number, number] },
      {
        config: { name: 'convnet', channels: [4, 6], kernelSize: 3, stride: 1, padding: 1, pool: true, hidden: [8] },
        shape: [8, 8, 2] as [number, number, number],
      },
    ];
    for (const { config, shape } of configs) {
      const rng = new Rng(8);
      const model = buildModel(modelSchema.parse(config), shape, 5);
      const params = unflattenParams(model.initParams(rng.fork('p')), model.specs);
      const size = shape[0] * shape[1] * shape[2];
      const x0 = tf.tensor(rng.fork('x').fillUniform(new Float32Array(size), 0, 1), [1, ...shape]) as Tensor4D;
      const dummyX = randn(rng, [1, ...shape]);
      const dummyY = randn(rng, [1, 5]);
      const evaluate = (): Float32Array[] =>
        tf.tidy(() => {
          const trueGrads = parameterGradients(model, params, x0, oneHot([2], 5));
          const f = (x: Tensor, y: Tensor) =>
            squaredGradientDistance(parameterGradients(model, params, x as Tensor4D, tf.softmax(y as Tensor2D) as Tensor2D), trueGrads);
          const { value, grads } = tf.valueAndGrads(f)([dummyX, dummyY]);
          return [value, ...grads].map((t) => Float32Array.from(t.dataSync()));
        });
      const fast = evaluate();
      const stock = withStockCpuKernels(evaluate);
      fast.forEach((values, i) => {
        let scale = 1e-6;
        for (const v of stock[i]) scale = Math.max(scale, Math.abs(v));
        for (let j = 0; j < values.length; j++) {
          expect(Math.abs(values[j] - stock[i][j]), `${model.name} output ${i} element ${j}`).to.be.at.most(1e-4 * scale);
        }
      });
      tf.dispose([...params, x0, dummyX, dummyY]);
    }
  });
});
