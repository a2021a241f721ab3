/**
 * The three conv kernels of conv.ts as im2col + SIMD GEMM (+ col2im), all in wasm/kernels.wat; this
 * file lays the operands out in the module's memory. Widths are padded to
 * multiples of 4 with zeros so every GEMM runs on whole f32x4 blocks:
 *   forward      C[P][COp] = A[P][Kp] · Wp[Kp][COp]
 *   filter grad  C[Kp][COp] = Aᵀ · DY[Pp][COp]          (A read transposed via strides)
 *   input grad   COL[P][Kp] = DY[P][COp] · Wᵀ[COp][Kp], then col2im into dx
 * with P output pixels (× batch), K = fh·fw·inC, and A the im2col matrix.
 */
import type { ConvGeometry } from './conv';
import type { WasmGemm } from './wasm-gemm';

const up4 = (n: number): number => (n + 3) & ~3;

/** Copies a [rows][cols] matrix into mem[off] as [rows][ld] with zero padding columns. */
function putPadded(src: Float32Array, rows: number, cols: number, mem: Float32Array, off: number, ld: number): void {
  if (cols === ld) {
    mem.set(src.subarray(0, rows * cols), off);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    const d = off + r * ld;
    for (let c = 0; c < cols; c++) mem[d + c] = src[s + c];
    for (let c = cols; c < ld; c++) mem[d + c] = 0;
  }
}

/** Copies the [rows][cols] top-left block of a [rows][ld] matrix out of mem. */
function takePadded(mem: Float32Array, off: number, ld: number, rows: number, cols: number): Float32Array {
  if (cols === ld) return mem.slice(off, off + rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = off + r * ld;
    const d = r * cols;
    for (let c = 0; c < cols; c++) out[d + c] = mem[s + c];
  }
  return out;
}

/**
 * Wᵀ [cop][kp] of a filter [k][outC] (row o holds filter column o; padding is zero). Attacks use
 * the same filter values for thousands of evaluations, so the result is cached per values array
 * (tfjs never mutates a tensor's values in place; a new tensor has a new array).
 */
const transposed = new WeakMap<Float32Array, Float32Array>();
function paddedTranspose(w: Float32Array, k: number, outC: number, kp: number, cop: number): Float32Array {
  const hit = transposed.get(w);
  if (hit && hit.length === cop * kp) return hit;
  const t = new Float32Array(cop * kp);
  for (let i = 0; i < k; i++) for (let o = 0; o < outC; o++) t[o * kp + i] = w[i * outC + o];
  transposed.set(w, t);
  return t;
}

export function conv2dForwardWasm(gemm: WasmGemm, x: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const k = g.fh * g.fw * g.inC;
  const kp = up4(k);
  const cop = up4(g.outC);
  const p = g.batch * g.outH * g.outW;
  const xOff = 0;
  const aOff = up4(x.length);
  const wOff = aOff + p * kp;
  const cOff = wOff + kp * cop;
  const mem = gemm.reserve(cOff + p * cop);
  mem.set(x, xOff);
  gemm.im2col(xOff, g, aOff, kp);
  putPadded(w, k, g.outC, mem, wOff, cop);
  mem.fill(0, wOff + k * cop, wOff + kp * cop);
  gemm.gemm(aOff, kp, 1, wOff, cop, cOff, cop, p, cop >> 2, kp);
  return takePadded(mem, cOff, cop, p, g.outC);
}

export function conv2dBackpropFilterWasm(gemm: WasmGemm, x: Float32Array, dy: Float32Array, g: ConvGeometry): Float32Array {
  const k = g.fh * g.fw * g.inC;
  const kp = up4(k);
  const cop = up4(g.outC);
  const p = g.batch * g.outH * g.outW;
  const pp = up4(p);
  const xOff = 0;
  const aOff = up4(x.length);
  const dyOff = aOff + pp * kp;
  const cOff = dyOff + pp * cop;
  const mem = gemm.reserve(cOff + kp * cop);
  mem.set(x, xOff);
  gemm.im2col(xOff, g, aOff, kp);
  mem.fill(0, aOff + p * kp, aOff + pp * kp);
  putPadded(dy, p, g.outC, mem, dyOff, cop);
  mem.fill(0, dyOff + p * cop, dyOff + pp * cop);
  gemm.gemm(aOff, 1, kp, dyOff, cop, cOff, cop, k, cop >> 2, pp);
  return takePadded(mem, cOff, cop, k, g.outC);
}

export function conv2dBackpropInputWasm(gemm: WasmGemm, dy: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const { inH, inW, inC, fh, fw, outC } = g;
  const k = fh * fw * inC;
  const kp = up4(k);
  const cop = up4(outC);
  const p = g.batch * g.outH * g.outW;
  const dyOff = 0;
  const wtOff = dyOff + p * cop;
  const colOff = wtOff + cop * kp;
  const mem = gemm.reserve(colOff + p * kp + g.batch * inH * inW * inC);
  putPadded(dy, p, outC, mem, dyOff, cop);
  mem.set(paddedTranspose(w, k, outC, kp, cop), wtOff);
  gemm.gemm(dyOff, cop, 1, wtOff, kp, colOff, kp, p, kp >> 2, cop);
  const dxOff = colOff + p * kp;
  gemm.col2im(colOff, g, dxOff, kp);
  const dx = mem.slice(dxOff, dxOff + g.batch * inH * inW * inC);
  return dx;
}
