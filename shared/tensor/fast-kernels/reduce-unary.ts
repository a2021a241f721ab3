/**
 * Sum over any set of axes without the transpose that tfjs's stock Sum does first (bias
 * gradients reduce over the batch and spatial axes of every conv layer); the sigmoid in SIMD (or
 * a plain loop) instead of a per-element callback; Neg as a loop (the stock one multiplies by −1
 * through the generic broadcasting path); Relu and Step (its derivative) as loops.
 */
import { wasmGemm } from './wasm-gemm';

/** Sums x (shape `shape`) over `axes` (normalised, any order); the result keeps the other dims in order. */
export function sumAxes(x: Float32Array, shape: readonly number[], axes: readonly number[]): { values: Float32Array; shape: number[] } {
  const reduced = new Set(axes);
  const outShape = shape.filter((_, i) => !reduced.has(i));
  let outSize = 1;
  for (const d of outShape) outSize *= d;
  const out = new Float64Array(outSize);
  // Collapse adjacent dims of the same kind into runs: (size, input stride is implicit, output stride).
  const runs: Array<{ size: number; kept: boolean }> = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const kept = !reduced.has(i);
    const last = runs[runs.length - 1];
    if (last && last.kept === kept) last.size *= shape[i];
    else runs.push({ size: shape[i], kept });
  }
  const strides = new Array<number>(runs.length);
  let s = 1;
  for (let i = runs.length - 1; i >= 0; i--) {
    strides[i] = runs[i].kept ? s : 0;
    if (runs[i].kept) s *= runs[i].size;
  }
  const total = x.length;
  if (runs.length === 0) {
    if (total > 0) out[0] = x[0];
  } else {
    const last = runs[runs.length - 1];
    const innerStride = strides[runs.length - 1];
    const outer = runs.length - 1;
    const counter = new Array<number>(outer).fill(0);
    let o = 0;
    for (let i = 0; i < total; i += last.size) {
      if (innerStride === 0) {
        let acc = 0;
        for (let j = 0; j < last.size; j++) acc += x[i + j];
        out[o] += acc;
      } else {
        for (let j = 0; j < last.size; j++) out[o + j] += x[i + j];
      }
      for (let d = outer - 1; d >= 0; d--) {
        o += strides[d];
        if (++counter[d] < runs[d].size) break;
        counter[d] = 0;
        o -= strides[d] * runs[d].size;
      }
    }
  }
  return { values: Float32Array.from(out), shape: outShape };
}

/** Below this many elements the copies into wasm memory cost more than the SIMD saves. */
const WASM_MIN_SIZE = 256;

/**
 * 1 / (1 + exp(−x)): in WebAssembly SIMD with a polynomial exp (Cephes' expf, ~1e-7 relative)
 * for larger inputs, else a loop over Math.exp.
 */
export function sigmoid(x: Float32Array): Float32Array {
  const w = x.length >= WASM_MIN_SIZE ? wasmGemm() : null;
  if (w) {
    const padded = (x.length + 3) & ~3;
    const mem = w.reserve(2 * padded);
    mem.set(x, 0);
    w.sigmoid(0, padded, x.length);
    return mem.slice(padded, padded + x.length);
  }
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  return out;
}

export function neg(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = -x[i];
  return out;
}

/** max(0, x) as tfjs computes it (NaN stays NaN, −0 becomes 0), without its per-element callback. */
export function relu(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, x[i]);
  return out;
}

/** tfjs's Step: 1 where x > 0, `alpha` elsewhere, NaN where x is NaN (ReLU's derivative). */
export function step(x: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? 1 : v !== v ? NaN : alpha;
  }
  return out;
}
