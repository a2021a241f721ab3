/**
 * An attack's current guess as a small PNG data URL for the live dashboard: the batch's images
 * side by side at 1:1 (the page scales them up, pixelated).
 */
import { PNG } from 'pngjs';

export function previewDataUrl(images: Float32Array, count: number, shape: readonly [number, number, number]): string {
  const [h, w, c] = shape;
  const png = new PNG({ width: w * count, height: h });
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((n * h + y) * w + x) * c;
        const dst = (y * w * count + n * w + x) * 4;
        for (let k = 0; k < 3; k++) png.data[dst + k] = Math.round(255 * Math.min(1, Math.max(0, images[src + (c === 1 ? 0 : k)])));
        png.data[dst + 3] = 255;
      }
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}
