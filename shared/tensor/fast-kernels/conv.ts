/**
 * 2-D convolutions (NHWC, filter [fh, fw, inC, outC], dilation 1) on raw Float32Arrays.
 *
 * All three kernels walk the output pixels and gather each pixel's receptive field into a patch
 * vector of length K = fh·fw·inC (im2col, one pixel at a time, zeros where padded), so that the
 * arithmetic runs as long contiguous loops over K that V8 compiles tightly:
 *   forward        out[p, o]   = ⟨patch_p, Wᵀ[o]⟩              (dot products of length K)
 *   filter grad    dWᵀ[o]     += dy[p, o] · patch_p             (axpy of length K)
 *   input grad     col         = Σ_o dy[p, o] · Wᵀ[o], then scatter-add col into dx (col2im)
 * Wᵀ is the filter transposed to [outC][K] once per call (K·outC values, negligible).
 */

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  fh: number;
  fw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

/** Filter [K][outC] → [outC][K]. */
function transposeFilter(w: Float32Array, k: number, outC: number): Float32Array {
  const t = new Float32Array(k * outC);
  for (let i = 0; i < k; i++) {
    const row = i * outC;
    for (let o = 0; o < outC; o++) t[o * k + i] = w[row + o];
  }
  return t;
}

/** Gathers the receptive field of output pixel (b, oy, ox) into `patch` (length fh·fw·inC). */
function gatherPatch(x: Float32Array, g: ConvGeometry, b: number, oy: number, ox: number, patch: Float32Array): void {
  const { inH, inW, inC, fh, fw } = g;
  const iy0 = oy * g.strideH - g.padTop;
  const ix0 = ox * g.strideW - g.padLeft;
  const rowLen = fw * inC;
  const interiorX = ix0 >= 0 && ix0 + fw <= inW;
  let q = 0;
  for (let ky = 0; ky < fh; ky++) {
    const iy = iy0 + ky;
    if (iy < 0 || iy >= inH) {
      patch.fill(0, q, q + rowLen);
      q += rowLen;
      continue;
    }
    const rowBase = ((b * inH + iy) * inW + ix0) * inC;
    if (interiorX) {
      for (let j = 0; j < rowLen; j++) patch[q + j] = x[rowBase + j];
      q += rowLen;
      continue;
    }
    for (let kx = 0; kx < fw; kx++) {
      const ix = ix0 + kx;
      if (ix < 0 || ix >= inW) {
        for (let c = 0; c < inC; c++) patch[q + c] = 0;
      } else {
        const base = rowBase + kx * inC;
        for (let c = 0; c < inC; c++) patch[q + c] = x[base + c];
      }
      q += inC;
    }
  }
}

/** Σ a[aOff + i] · b[bOff + i] for i < n, four accumulators to break the dependency chain. */
function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const n4 = n - 3;
  for (; i < n4; i += 4) {
    s0 += a[aOff + i] * b[bOff + i];
    s1 += a[aOff + i + 1] * b[bOff + i + 1];
    s2 += a[aOff + i + 2] * b[bOff + i + 2];
    s3 += a[aOff + i + 3] * b[bOff + i + 3];
  }
  for (; i < n; i++) s0 += a[aOff + i] * b[bOff + i];
  return s0 + s1 + (s2 + s3);
}

/** y[yOff + i] += alpha · x[xOff + i] for i < n. */
function axpy(y: Float32Array | Float64Array, yOff: number, alpha: number, x: Float32Array, xOff: number, n: number): void {
  for (let i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
}

export function conv2dForward(x: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const k = g.fh * g.fw * g.inC;
  const { outC } = g;
  const wt = transposeFilter(w, k, outC);
  const out = new Float32Array(g.batch * g.outH * g.outW * outC);
  const patch = new Float32Array(k);
  let p = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      for (let ox = 0; ox < g.outW; ox++, p += outC) {
        gatherPatch(x, g, b, oy, ox, patch);
        for (let o = 0; o < outC; o++) out[p + o] = dot(patch, 0, wt, o * k, k);
      }
    }
  }
  return out;
}

/** ∂L/∂W [fh, fw, inC, outC] from the layer input x and the output gradient dy. */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry): Float32Array {
  const k = g.fh * g.fw * g.inC;
  const { outC } = g;
  const acc = new Float64Array(outC * k);
  const patch = new Float32Array(k);
  let p = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      for (let ox = 0; ox < g.outW; ox++, p += outC) {
        gatherPatch(x, g, b, oy, ox, patch);
        for (let o = 0; o < outC; o++) {
          const d = dy[p + o];
          if (d !== 0) axpy(acc, o * k, d, patch, 0, k);
        }
      }
    }
  }
  const out = new Float32Array(k * outC);
  for (let i = 0; i < k; i++) for (let o = 0; o < outC; o++) out[i * outC + o] = acc[o * k + i];
  return out;
}

/** ∂L/∂x [batch, inH, inW, inC] from the output gradient dy and the filter W. */
export function conv2dBackpropInput(dy: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const { inH, inW, inC, fh, fw, outC } = g;
  const k = fh * fw * inC;
  const wt = transposeFilter(w, k, outC);
  const dx = new Float32Array(g.batch * inH * inW * inC);
  const col = new Float32Array(k);
  let p = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < g.outW; ox++, p += outC) {
        col.fill(0);
        let any = false;
        for (let o = 0; o < outC; o++) {
          const d = dy[p + o];
          if (d !== 0) {
            axpy(col, 0, d, wt, o * k, k);
            any = true;
          }
        }
        if (!any) continue;
        const ix0 = ox * g.strideW - g.padLeft;
        for (let ky = 0; ky < fh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < fw; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const base = ((b * inH + iy) * inW + ix) * inC;
            const q = (ky * fw + kx) * inC;
            for (let c = 0; c < inC; c++) dx[base + c] += col[q + c];
          }
        }
      }
    }
  }
  return dx;
}
