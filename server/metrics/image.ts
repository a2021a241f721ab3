/** Pixel-wise reconstruction error for images with values in [0, 1]. */

/**
 * PSNR is reported up to this many dB. An exact reconstruction has MSE 0 and an infinite PSNR,
 * which JSON cannot hold; 100 dB (MSE 1e-10, far below float32 rounding of [0,1] pixels at
 * ~3e-8 per value) reads as "identical" and keeps averages finite.
 */
export const PSNR_CAP_DB = 100;

/** Mean squared difference of two equally long arrays. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`mse: images differ in size (${a.length} vs ${b.length} values)`);
  if (a.length === 0) throw new Error('mse: empty images');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
}

/** 10·log10(1 / mse) for a peak value of 1, capped at PSNR_CAP_DB (so MSE 0 gives 100). */
export function psnrFromMse(meanSquaredError: number): number {
  if (Number.isNaN(meanSquaredError) || meanSquaredError < 0) return Number.NaN;
  if (meanSquaredError === 0) return PSNR_CAP_DB;
  return Math.min(PSNR_CAP_DB, -10 * Math.log10(meanSquaredError));
}

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return psnrFromMse(mse(a, b));
}
