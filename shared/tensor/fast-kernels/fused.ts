/**
 * Fused kernels for the spots of a gradient-matching evaluation that otherwise expand into many
 * tiny tfjs kernels once differentiated:
 *   squaredDistance(a, b) = Σ (a − b)²        — one kernel per parameter tensor in the DLG objective
 *                                                (was SquaredDifference + Sum, and 5 kernels backward)
 *   sigmoidBackward(y, dy) = dy · y · (1 − y)  — the sigmoid's gradient, itself differentiated
 *                                                by DLG's outer backward pass (was 3 + ~7 kernels)
 *   softCrossEntropy(l, t) = mean_n −Σ_c t log_softmax(l) — the client loss (was ~10 kernels,
 *                                                ~15 in its gradient and ~30 in that one's)
 * Each has a cpu kernel and a registered gradient made of fused kernels too. On backends without
 * these kernels (tensorflow, wasm) the same functions fall back to plain tfjs ops. The gradients'
 * own kernels have no gradient: differentiating a third time needs the composite path.
 */
import { tf, type Tensor } from '../tf';
import { asCpuBackend, f32, type TensorInfo } from './cpu-backend';
import { wasmGemm, type WasmGemm } from './wasm-gemm';

/** Below this many elements the copies into wasm memory cost more than the SIMD saves. */
const WASM_MIN_SIZE = 256;

/** The wasm module when worth using for n elements, else null (the JS loops below run). */
function simd(n: number): WasmGemm | null {
  return n >= WASM_MIN_SIZE ? wasmGemm() : null;
}

/** Copies the inputs into wasm memory at 4-aligned offsets; returns their offsets and the output's. */
function stage(w: WasmGemm, inputs: Float32Array[], outLength: number): { offsets: number[]; out: number; mem: Float32Array } {
  const offsets: number[] = [];
  let at = 0;
  for (const v of inputs) {
    offsets.push(at);
    at += (v.length + 3) & ~3;
  }
  const mem = w.reserve(at + outLength);
  inputs.forEach((v, i) => mem.set(v, offsets[i]));
  return { offsets, out: at, mem };
}

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];

export const SQUARED_DISTANCE = 'FedleakSquaredDistance';
export const SCALED_DIFFERENCE = 'FedleakScaledDifference';
export const SIGMOID_BACKWARD = 'FedleakSigmoidBackward';
export const SIGMOID_BACKWARD_GRAD_Y = 'FedleakSigmoidBackwardGradY';
export const SOFT_CE = 'FedleakSoftCrossEntropy';
export const SOFT_CE_GRAD = 'FedleakSoftCrossEntropyGrad';
export const SOFT_CE_GRAD_LOGITS = 'FedleakSoftCrossEntropyGradLogits';
export const SOFT_CE_GRAD_TARGETS = 'FedleakSoftCrossEntropyGradTargets';

/** Kernels found registered (per backend); kernels are never unregistered, so hits can be cached. */
const available = new Set<string>();
function hasKernel(name: string): boolean {
  const backend = tf.getBackend();
  const key = `${backend}/${name}`;
  if (available.has(key)) return true;
  if (tf.getKernel(name, backend) === undefined) return false;
  available.add(key);
  return true;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Σ (a − b)² as a scalar; a and b of the same shape. */
export function squaredDistance(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new Error(`squaredDistance: shapes [${a.shape}] and [${b.shape}] differ`);
  if (a.dtype === 'float32' && b.dtype === 'float32' && hasKernel(SQUARED_DISTANCE)) {
    return tf.engine().runKernel(SQUARED_DISTANCE, { a, b }) as Tensor;
  }
  return tf.tidy(() => tf.sum(tf.squaredDifference(a, b)));
}

/** dy · y · (1 − y): the gradient of sigmoid at output y for upstream dy. */
export function sigmoidBackward(y: Tensor, dy: Tensor): Tensor {
  if (y.dtype === 'float32' && dy.dtype === 'float32' && sameShape(y.shape, dy.shape) && hasKernel(SIGMOID_BACKWARD)) {
    return tf.engine().runKernel(SIGMOID_BACKWARD, { y, dy }) as Tensor;
  }
  return tf.tidy(() => tf.mul(dy, tf.mul(y, tf.sub(1, y))));
}

/**
 * Mean over the batch of −Σ targets · log_softmax(logits) for [batch, classes] float32 inputs as
 * one kernel, or null when this backend lacks it (callers then use shared/models/loss).
 */
export function softCrossEntropyFused(logits: Tensor, targets: Tensor): Tensor | null {
  const ok =
    logits.rank === 2 &&
    sameShape(logits.shape, targets.shape) &&
    logits.dtype === 'float32' &&
    targets.dtype === 'float32' &&
    hasKernel(SOFT_CE);
  return ok ? (tf.engine().runKernel(SOFT_CE, { logits, targets }) as Tensor) : null;
}

// ---- cpu kernels ----

/** Row-wise softmax of [rows][cols] logits (max-shifted), into a Float64Array. */
function softmaxRows(l: Float32Array, rows: number, cols: number): Float64Array {
  const s = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, l[o + c]);
    let z = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(l[o + c] - m);
      s[o + c] = e;
      z += e;
    }
    for (let c = 0; c < cols; c++) s[o + c] /= z;
  }
  return s;
}

function softCeKernel(args: KernelArgs): TensorInfo {
  const { logits, targets } = args.inputs as { logits: TensorInfo; targets: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const l = f32(backend, logits);
  const t = f32(backend, targets);
  const [rows, cols] = logits.shape;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, l[o + c]);
    let z = 0;
    for (let c = 0; c < cols; c++) z += Math.exp(l[o + c] - m);
    const logZ = m + Math.log(z);
    for (let c = 0; c < cols; c++) loss -= t[o + c] * (l[o + c] - logZ);
  }
  return backend.makeTensorInfo([], 'float32', Float32Array.of(loss / rows));
}

/** ∂loss/∂logits = (dy / N) · (softmax(l) · Σ_c t − t), row by row. */
function softCeGradKernel(args: KernelArgs): TensorInfo {
  const { logits, targets, dy } = args.inputs as { logits: TensorInfo; targets: TensorInfo; dy: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const l = f32(backend, logits);
  const t = f32(backend, targets);
  const [rows, cols] = logits.shape;
  const k = f32(backend, dy)[0] / rows;
  const s = softmaxRows(l, rows, cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let tSum = 0;
    for (let c = 0; c < cols; c++) tSum += t[o + c];
    for (let c = 0; c < cols; c++) out[o + c] = k * (s[o + c] * tSum - t[o + c]);
  }
  return backend.makeTensorInfo([rows, cols], 'float32', out);
}

/** For upstream G of SoftCEGrad: ∂/∂logits = (dy / N) · Σ_c t · s ⊙ (G − ⟨G, s⟩), row by row. */
function softCeGradLogitsKernel(args: KernelArgs): TensorInfo {
  const { logits, targets, dy, g } = args.inputs as { logits: TensorInfo; targets: TensorInfo; dy: TensorInfo; g: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const l = f32(backend, logits);
  const t = f32(backend, targets);
  const gv = f32(backend, g);
  const [rows, cols] = logits.shape;
  const k = f32(backend, dy)[0] / rows;
  const s = softmaxRows(l, rows, cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let tSum = 0;
    let gs = 0;
    for (let c = 0; c < cols; c++) {
      tSum += t[o + c];
      gs += gv[o + c] * s[o + c];
    }
    for (let c = 0; c < cols; c++) out[o + c] = k * tSum * s[o + c] * (gv[o + c] - gs);
  }
  return backend.makeTensorInfo([rows, cols], 'float32', out);
}

/** For upstream G of SoftCEGrad: ∂/∂targets = (dy / N) · (⟨G, s⟩ − G), row by row. */
function softCeGradTargetsKernel(args: KernelArgs): TensorInfo {
  const { logits, dy, g } = args.inputs as { logits: TensorInfo; dy: TensorInfo; g: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const l = f32(backend, logits);
  const gv = f32(backend, g);
  const [rows, cols] = logits.shape;
  const k = f32(backend, dy)[0] / rows;
  const s = softmaxRows(l, rows, cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let gs = 0;
    for (let c = 0; c < cols; c++) gs += gv[o + c] * s[o + c];
    for (let c = 0; c < cols; c++) out[o + c] = k * (gs - gv[o + c]);
  }
  return backend.makeTensorInfo([rows, cols], 'float32', out);
}

function squaredDistanceKernel(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const w = simd(av.length);
  if (w) {
    const { offsets } = stage(w, [av, bv], 0);
    return backend.makeTensorInfo([], 'float32', Float32Array.of(w.squaredDistance(offsets[0], offsets[1], av.length)));
  }
  let s = 0;
  for (let i = 0; i < av.length; i++) {
    const d = av[i] - bv[i];
    s += d * d;
  }
  return backend.makeTensorInfo([], 'float32', Float32Array.of(s));
}

/** 2 · dy · (a − b), dy a scalar: the gradient of squaredDistance w.r.t. a. */
function scaledDifferenceKernel(args: KernelArgs): TensorInfo {
  const { a, b, dy } = args.inputs as { a: TensorInfo; b: TensorInfo; dy: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const k = 2 * f32(backend, dy)[0];
  const w = simd(av.length);
  if (w) {
    const { offsets, out, mem } = stage(w, [av, bv], av.length);
    w.scaledDifference(offsets[0], offsets[1], k, out, av.length);
    return backend.makeTensorInfo([...a.shape], 'float32', mem.slice(out, out + av.length));
  }
  const out = new Float32Array(av.length);
  for (let i = 0; i < av.length; i++) out[i] = k * (av[i] - bv[i]);
  return backend.makeTensorInfo([...a.shape], 'float32', out);
}

function sigmoidBackwardKernel(args: KernelArgs): TensorInfo {
  const { y, dy } = args.inputs as { y: TensorInfo; dy: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const yv = f32(backend, y);
  const dv = f32(backend, dy);
  const w = simd(yv.length);
  if (w) {
    const { offsets, out, mem } = stage(w, [yv, dv], yv.length);
    w.sigmoidBackward(offsets[0], offsets[1], out, yv.length);
    return backend.makeTensorInfo([...y.shape], 'float32', mem.slice(out, out + yv.length));
  }
  const out = new Float32Array(yv.length);
  for (let i = 0; i < yv.length; i++) out[i] = dv[i] * yv[i] * (1 - yv[i]);
  return backend.makeTensorInfo([...y.shape], 'float32', out);
}

/** ∂/∂y of Σ g · dy · y · (1 − y) = g · dy · (1 − 2y). */
function sigmoidBackwardGradYKernel(args: KernelArgs): TensorInfo {
  const { y, dy, g } = args.inputs as { y: TensorInfo; dy: TensorInfo; g: TensorInfo };
  const backend = asCpuBackend(args.backend);
  const yv = f32(backend, y);
  const dv = f32(backend, dy);
  const gv = f32(backend, g);
  const w = simd(yv.length);
  if (w) {
    const { offsets, out, mem } = stage(w, [yv, dv, gv], yv.length);
    w.sigmoidBackwardGradY(offsets[0], offsets[1], offsets[2], out, yv.length);
    return backend.makeTensorInfo([...y.shape], 'float32', mem.slice(out, out + yv.length));
  }
  const out = new Float32Array(yv.length);
  for (let i = 0; i < yv.length; i++) out[i] = gv[i] * dv[i] * (1 - 2 * yv[i]);
  return backend.makeTensorInfo([...y.shape], 'float32', out);
}

const CPU_KERNELS: Array<[string, tf.KernelConfig['kernelFunc']]> = [
  [SQUARED_DISTANCE, squaredDistanceKernel],
  [SCALED_DIFFERENCE, scaledDifferenceKernel],
  [SIGMOID_BACKWARD, sigmoidBackwardKernel],
  [SIGMOID_BACKWARD_GRAD_Y, sigmoidBackwardGradYKernel],
  [SOFT_CE, softCeKernel],
  [SOFT_CE_GRAD, softCeGradKernel],
  [SOFT_CE_GRAD_LOGITS, softCeGradLogitsKernel],
  [SOFT_CE_GRAD_TARGETS, softCeGradTargetsKernel],
];

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: SOFT_CE,
    inputsToSave: ['logits', 'targets'],
    gradFunc: (dy, saved) => {
      const [logits, targets] = saved;
      const d = dy as Tensor;
      return {
        logits: () => tf.engine().runKernel(SOFT_CE_GRAD, { logits, targets, dy: d }) as Tensor,
        // ∂/∂t = −(dy / N) · log_softmax(l), in plain ops (tf.logSoftmax would not differentiate twice).
        targets: () => {
          const shifted = tf.sub(logits, tf.max(logits, 1, true));
          const logSoftmax = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
          return tf.mul(logSoftmax, tf.div(tf.neg(d), logits.shape[0]));
        },
      };
    },
  },
  {
    kernelName: SOFT_CE_GRAD,
    inputsToSave: ['logits', 'targets', 'dy'],
    gradFunc: (g, saved) => {
      const [logits, targets, dy] = saved;
      const gt = g as Tensor;
      return {
        logits: () => tf.engine().runKernel(SOFT_CE_GRAD_LOGITS, { logits, targets, dy, g: gt }) as Tensor,
        targets: () => tf.engine().runKernel(SOFT_CE_GRAD_TARGETS, { logits, dy, g: gt }) as Tensor,
        // ∂/∂dy = Σ G ⊙ (s · Σt − t) / N: the gradient at dy = 1.
        dy: () =>
          tf.reshape(tf.sum(tf.mul(gt, tf.engine().runKernel(SOFT_CE_GRAD, { logits, targets, dy: tf.onesLike(dy) }) as Tensor)), dy.shape),
      };
    },
  },
  {
    kernelName: SQUARED_DISTANCE,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      const da = () => tf.engine().runKernel(SCALED_DIFFERENCE, { a, b, dy: d }) as Tensor;
      return { a: da, b: () => tf.neg(da()) };
    },
  },
  {
    kernelName: SIGMOID_BACKWARD,
    inputsToSave: ['y', 'dy'],
    gradFunc: (g, saved) => {
      const [y, dy] = saved;
      const gt = g as Tensor;
      return {
        y: () => tf.engine().runKernel(SIGMOID_BACKWARD_GRAD_Y, { y, dy, g: gt }) as Tensor,
        dy: () => tf.engine().runKernel(SIGMOID_BACKWARD, { y, dy: gt }) as Tensor,
      };
    },
  },
];

/** Registers the cpu kernels and their gradients (with the fast cpu kernels). */
export function registerFusedKernels(): void {
  for (const [kernelName, kernelFunc] of CPU_KERNELS) {
    if (tf.getKernel(kernelName, 'cpu')) continue;
    tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
  }
  for (const config of GRADIENTS) tf.registerGradient(config);
}
