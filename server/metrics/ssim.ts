/**
 * SSIM of Wang, Bovik, Sheikh and Simoncelli (2004) as in their reference MATLAB code: an 11×11
 * Gaussian window with σ = 1.5, C1 = (0.01·L)², C2 = (0.03·L)² with dynamic range L = 1 (images
 * in [0, 1]), local statistics only where the window fits inside the image ('valid' filtering,
 * so a 28×28 digit gives an 18×18 SSIM map), map averaged, then averaged over channels.
 * Images smaller than 11 pixels on a side use a window as large as the image (same σ).
 */
import type { ImageShape } from '../../shared/models/types';

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/** Normalised 1-D Gaussian; the 2-D window is its outer product (separable filtering). */
function gaussian1d(size: number, sigma: number): Float64Array {
  const w = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += w[i];
  }
  for (let i = 0; i < size; i++) w[i] /= sum;
  return w;
}

/** 'valid' separable filtering of an h×w plane: result (h−k+1)×(w−k+1). */
function filterValid(plane: Float64Array, h: number, w: number, g: Float64Array): Float64Array {
  const k = g.length;
  const oh = h - k + 1;
  const ow = w - k + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += g[i] * plane[y * w + x + i];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += g[i] * rows[(y + i) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of one channel plane pair. */
function ssimPlane(a: Float64Array, b: Float64Array, h: number, w: number, g: Float64Array): number {
  const n = h * w;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i] * a[i];
    bb[i] = b[i] * b[i];
    ab[i] = a[i] * b[i];
  }
  const muA = filterValid(a, h, w, g);
  const muB = filterValid(b, h, w, g);
  const eAA = filterValid(aa, h, w, g);
  const eBB = filterValid(bb, h, w, g);
  const eAB = filterValid(ab, h, w, g);
  const c1 = SSIM_K1 ** 2;
  const c2 = SSIM_K2 ** 2;
  let sum = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i];
    const mb = muB[i];
    const varA = eAA[i] - ma * ma;
    const varB = eBB[i] - mb * mb;
    const cov = eAB[i] - ma * mb;
    sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (varA + varB + c2));
  }
  return sum / muA.length;
}

/** SSIM of two HWC images of the given shape (values in [0, 1]); 1 for identical images. */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, shape: ImageShape): number {
  const [h, w, c] = shape;
  const size = h * w * c;
  if (a.length !== size || b.length !== size) {
    throw new Error(`ssim: images must have ${h}×${w}×${c} = ${size} values, got ${a.length} and ${b.length}`);
  }
  const k = Math.min(SSIM_WINDOW, h, w);
  const g = gaussian1d(k, SSIM_SIGMA);
  let total = 0;
  const pa = new Float64Array(h * w);
  const pb = new Float64Array(h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      pa[p] = a[p * c + ch];
      pb[p] = b[p * c + ch];
    }
    total += ssimPlane(pa, pb, h, w, g);
  }
  return total / c;
}
