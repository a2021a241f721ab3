/**
 * Broadcasting elementwise float32 arithmetic. tfjs's stock cpu kernels compute an index
 * conversion (with array allocations) per element whenever either side broadcasts, which is
 * what the bias adds and the gradient's scale-by-scalar multiplies hit. Here the shapes are
 * first collapsed into a few (size, strideA, strideB) runs, and the innermost run is a plain
 * loop with a fixed step on each side.
 */

import { wasmGemm } from './wasm-gemm';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'squaredDifference';

const WASM_OP: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, squaredDifference: 4 };
/** Below this many outputs the copies into and out of wasm memory cost more than they save. */
const WASM_MIN_SIZE = 256;

/**
 * Same-length or scalar-broadcast operands in WebAssembly SIMD (four lanes per instruction);
 * null when wasm is unavailable or the case is not one of those.
 */
function wasmBinary(op: BinaryOp, a: Float32Array, b: Float32Array, total: number): Float32Array | null {
  if (total < WASM_MIN_SIZE) return null;
  const mode =
    a.length === total && b.length === total ? 0 : a.length === total && b.length === 1 ? 1 : a.length === 1 && b.length === total ? 2 : -1;
  if (mode < 0) return null;
  const w = wasmGemm();
  if (!w) return null;
  const aOff = 0;
  const bOff = (a.length + 3) & ~3;
  const outOff = bOff + ((b.length + 3) & ~3);
  const mem = w.reserve(outOff + total);
  mem.set(a, aOff);
  mem.set(b, bOff);
  w.binary(WASM_OP[op], mode, aOff, bOff, outOff, total);
  return mem.slice(outOff, outOff + total);
}

interface Run {
  size: number;
  strideA: number;
  strideB: number;
}

/** Output shape of broadcasting a with b (numpy rules); throws naming both shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`Operands could not be broadcast together with shapes [${a}] and [${b}].`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Collapses the broadcast into runs (outermost first); adjacent dims of the same kind merge. */
function collapse(a: readonly number[], b: readonly number[], out: readonly number[]): Run[] {
  const rank = out.length;
  const dims: Array<{ size: number; inA: boolean; inB: boolean }> = [];
  for (let i = 0; i < rank; i++) {
    const size = out[i];
    if (size === 1) continue;
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    dims.push({ size, inA: da !== 1, inB: db !== 1 });
  }
  const merged: Array<{ size: number; inA: boolean; inB: boolean }> = [];
  for (const d of dims) {
    const last = merged[merged.length - 1];
    if (last && last.inA === d.inA && last.inB === d.inB) last.size *= d.size;
    else merged.push({ ...d });
  }
  // Strides from the innermost run outwards.
  const runs: Run[] = new Array(merged.length);
  let sa = 1;
  let sb = 1;
  for (let i = merged.length - 1; i >= 0; i--) {
    const d = merged[i];
    runs[i] = { size: d.size, strideA: d.inA ? sa : 0, strideB: d.inB ? sb : 0 };
    if (d.inA) sa *= d.size;
    if (d.inB) sb *= d.size;
  }
  return runs;
}

/** Same-size operands: one flat loop per op. */
function flat(op: BinaryOp, out: Float32Array, a: Float32Array, b: Float32Array): void {
  const n = out.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      return;
    case 'squaredDifference':
      for (let i = 0; i < n; i++) {
        const d = a[i] - b[i];
        out[i] = d * d;
      }
      return;
  }
}

function inner(
  op: BinaryOp,
  out: Float32Array,
  o: number,
  a: Float32Array,
  ia: number,
  sa: number,
  b: Float32Array,
  ib: number,
  sb: number,
  n: number,
): void {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia] + b[ib];
      return;
    case 'sub':
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia] - b[ib];
      return;
    case 'mul':
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia] * b[ib];
      return;
    case 'div':
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia] / b[ib];
      return;
    case 'squaredDifference':
      for (let i = 0; i < n; i++, ia += sa, ib += sb) {
        const d = a[ia] - b[ib];
        out[o + i] = d * d;
      }
      return;
  }
}

/**
 * Rows of `cols` contiguous values on both sides, one side repeating its row (a per-channel scale or
 * shift on NHWC: [1, 1, 1, C] with [N, H, W, C]): the op chosen once, not once per row as in `inner`.
 */
function rows(
  op: BinaryOp,
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  count: number,
  cols: number,
  sa: number,
  sb: number,
): void {
  for (let r = 0, o = 0, ia = 0, ib = 0; r < count; r++, o += cols, ia += sa, ib += sb) {
    switch (op) {
      case 'add':
        for (let j = 0; j < cols; j++) out[o + j] = a[ia + j] + b[ib + j];
        break;
      case 'sub':
        for (let j = 0; j < cols; j++) out[o + j] = a[ia + j] - b[ib + j];
        break;
      case 'mul':
        for (let j = 0; j < cols; j++) out[o + j] = a[ia + j] * b[ib + j];
        break;
      case 'div':
        for (let j = 0; j < cols; j++) out[o + j] = a[ia + j] / b[ib + j];
        break;
      case 'squaredDifference':
        for (let j = 0; j < cols; j++) {
          const d = a[ia + j] - b[ib + j];
          out[o + j] = d * d;
        }
        break;
    }
  }
}

export function broadcastBinary(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
): { values: Float32Array; shape: number[] } {
  const shape = broadcastShape(aShape, bShape);
  let total = 1;
  for (const d of shape) total *= d;
  const viaWasm = wasmBinary(op, a, b, total);
  if (viaWasm) return { values: viaWasm, shape };
  const out = new Float32Array(total);
  if (total === 0) return { values: out, shape };
  if (a.length === total && b.length === total) {
    flat(op, out, a, b);
    return { values: out, shape };
  }
  const runs = collapse(aShape, bShape, shape);
  if (runs.length === 0) {
    inner(op, out, 0, a, 0, 0, b, 0, 0, 1);
    return { values: out, shape };
  }
  const last = runs[runs.length - 1];
  if (runs.length === 2 && last.strideA === 1 && last.strideB === 1) {
    rows(op, out, a, b, runs[0].size, last.size, runs[0].strideA, runs[0].strideB);
    return { values: out, shape };
  }
  const outer = runs.length - 1;
  const counter = new Array<number>(outer).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < total; o += last.size) {
    inner(op, out, o, a, ia, last.strideA, b, ib, last.strideB, last.size);
    // Odometer over the outer runs.
    for (let d = outer - 1; d >= 0; d--) {
      const r = runs[d];
      ia += r.strideA;
      ib += r.strideB;
      if (++counter[d] < r.size) break;
      counter[d] = 0;
      ia -= r.strideA * r.size;
      ib -= r.strideB * r.size;
    }
  }
  return { values: out, shape };
}
