/**
 * The three conv kernels of conv.ts as im2col + SIMD GEMM (wasm/gemm.wat). Widths are padded to
 * multiples of 4 with zeros so every GEMM runs on whole f32x4 blocks:
 *   forward      C[P][COp] = A[P][Kp] · Wp[Kp][COp]
 *   filter grad  C[Kp][COp] = Aᵀ · DY[Pp][COp]          (A read transposed via strides)
 *   input grad   COL[P][Kp] = DY[P][COp] · Wᵀ[COp][Kp], then col2im into dx
 * with P output pixels (× batch), K = fh·fw·inC, and A the im2col matrix.
 */
import type { ConvGeometry } from './conv';
import type { WasmGemm } from './wasm-gemm';

const up4 = (n: number): number => (n + 3) & ~3;

/** Writes the im2col matrix [P][kp] (zeros for padding and for columns ≥ K) at mem[off]. */
function im2col(x: Float32Array, g: ConvGeometry, mem: Float32Array, off: number, kp: number): void {
  const { inH, inW, inC, fh, fw } = g;
  const rowLen = fw * inC;
  let row = off;
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < g.outW; ox++, row += kp) {
        const ix0 = ox * g.strideW - g.padLeft;
        const interiorX = ix0 >= 0 && ix0 + fw <= inW;
        let q = row;
        for (let ky = 0; ky < fh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) {
            mem.fill(0, q, q + rowLen);
            q += rowLen;
            continue;
          }
          const rowBase = ((b * inH + iy) * inW + ix0) * inC;
          if (interiorX) {
            mem.set(x.subarray(rowBase, rowBase + rowLen), q);
            q += rowLen;
            continue;
          }
          for (let kx = 0; kx < fw; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) {
              for (let c = 0; c < inC; c++) mem[q + c] = 0;
            } else {
              const base = rowBase + kx * inC;
              for (let c = 0; c < inC; c++) mem[q + c] = x[base + c];
            }
            q += inC;
          }
        }
        for (; q < row + kp; q++) mem[q] = 0;
      }
    }
  }
}

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

export function conv2dForwardWasm(gemm: WasmGemm, x: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const k = g.fh * g.fw * g.inC;
  const kp = up4(k);
  const cop = up4(g.outC);
  const p = g.batch * g.outH * g.outW;
  const aOff = 0;
  const wOff = aOff + p * kp;
  const cOff = wOff + kp * cop;
  const mem = gemm.reserve(cOff + p * cop);
  im2col(x, g, mem, aOff, kp);
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
  const aOff = 0;
  const dyOff = aOff + pp * kp;
  const cOff = dyOff + pp * cop;
  const mem = gemm.reserve(cOff + kp * cop);
  im2col(x, g, mem, aOff, kp);
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
  const mem = gemm.reserve(colOff + p * kp);
  putPadded(dy, p, outC, mem, dyOff, cop);
  // Wᵀ [cop][kp]: row o holds filter column o; padding rows and columns are zero.
  mem.fill(0, wtOff, wtOff + cop * kp);
  for (let i = 0; i < k; i++) for (let o = 0; o < outC; o++) mem[wtOff + o * kp + i] = w[i * outC + o];
  gemm.gemm(dyOff, cop, 1, wtOff, kp, colOff, kp, p, kp >> 2, cop);
  // col2im: scatter-add each pixel's column into dx.
  const dx = new Float32Array(g.batch * inH * inW * inC);
  let col = colOff;
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < g.outW; ox++, col += kp) {
        const ix0 = ox * g.strideW - g.padLeft;
        for (let ky = 0; ky < fh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < fw; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const base = ((b * inH + iy) * inW + ix) * inC;
            const q = col + (ky * fw + kx) * inC;
            for (let c = 0; c < inC; c++) dx[base + c] += mem[q + c];
          }
        }
      }
    }
  }
  return dx;
}
