/**
 * Bilinear resizing of one HWC float image, synchronous and dependency-free (sharp is async and
 * native; the loaders are synchronous). Pixel centres sit at (i + 0.5); enlarging is plain
 * bilinear interpolation with edge pixels repeated. Shrinking widens the triangle filter by the
 * scale factor (as Pillow's BILINEAR and torchvision's antialiased resize do), so every source
 * pixel contributes and small images do not alias.
 */

interface Taps {
  /** First source index of each output index. */
  start: Int32Array;
  /** weights[o] over source indices start[o], start[o] + 1, …; they sum to 1. */
  weights: Float64Array[];
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const width = Math.max(scale, 1);
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - width));
    const hi = Math.min(inSize - 1, Math.ceil(centre + width));
    const w = new Float64Array(hi - lo + 1);
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const t = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / width));
      w[i - lo] = t;
      sum += t;
    }
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    start[o] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** Resizes `src` ([h, w, c], row-major HWC) to [outH, outW, c]. Same size returns a copy. */
export function resizeBilinear(src: Float32Array, [h, w, c]: readonly number[], outH: number, outW: number): Float32Array {
  if (h === outH && w === outW) return Float32Array.from(src);
  const across = taps(w, outW);
  const down = taps(h, outH);
  // Rows first into [h, outW, c], then columns into [outH, outW, c].
  const mid = new Float64Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const weights = across.weights[x];
      const from = across.start[x];
      for (let k = 0; k < weights.length; k++) {
        const s = (y * w + from + k) * c;
        const d = (y * outW + x) * c;
        for (let ch = 0; ch < c; ch++) mid[d + ch] += weights[k] * src[s + ch];
      }
    }
  }
  const out = new Float32Array(outH * outW * c);
  const acc = new Float64Array(c);
  for (let y = 0; y < outH; y++) {
    const weights = down.weights[y];
    const from = down.start[y];
    for (let x = 0; x < outW; x++) {
      acc.fill(0);
      for (let k = 0; k < weights.length; k++) {
        const s = ((from + k) * outW + x) * c;
        for (let ch = 0; ch < c; ch++) acc[ch] += weights[k] * mid[s + ch];
      }
      const d = (y * outW + x) * c;
      for (let ch = 0; ch < c; ch++) out[d + ch] = acc[ch];
    }
  }
  return out;
}
