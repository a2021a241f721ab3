/**
 * Writes a Dataset as an image folder (the layout `loadImageFolder` reads): one sub-folder per
 * class, one 8-bit PNG per example. For tests and tools, e.g. MNIST digits as 32×32 RGB PNGs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG, type ColorType } from 'pngjs';
import { DataError } from './errors';
import { resizeBilinear } from './resize';
import type { Dataset } from './types';

export interface WriteImageFolderOptions {
  /** Resize to [h, w] and convert to c channels (1 grey, 3 RGB, 4 RGBA) before writing; default the dataset's shape. */
  shape?: [number, number, number];
}

const COLOR_TYPES: Record<number, ColorType> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function toByte(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/** One example as RGBA bytes (grey repeated, alpha 255 unless the dataset has one) at its own size. */
function rgbaOf(pixels: Float32Array, pixelsCount: number, channels: number): Buffer {
  const out = Buffer.alloc(pixelsCount * 4);
  for (let p = 0; p < pixelsCount; p++) {
    const v = pixels.subarray(p * channels, (p + 1) * channels);
    const rgb = channels <= 2 ? [v[0], v[0], v[0]] : [v[0], v[1], v[2]];
    const alpha = channels === 2 ? v[1] : channels === 4 ? v[3] : 1;
    out.set([...rgb, alpha].map(toByte), p * 4);
  }
  return out;
}

/** Class folder names: the dataset's classNames, else "0", "1", … zero-padded so they sort in label order. */
function folderNames(d: Dataset): string[] {
  if (d.classNames) return d.classNames;
  const digits = String(d.numClasses - 1).length;
  return Array.from({ length: d.numClasses }, (_, i) => String(i).padStart(digits, '0'));
}

/** Writes `<dir>/<class>/<index>.png` for every example; returns the folder. */
export function writeImageFolder(d: Dataset, dir: string, options: WriteImageFolderOptions = {}): string {
  const [h, w, c] = d.shape;
  const [outH, outW, outC] = options.shape ?? d.shape;
  if (COLOR_TYPES[outC] === undefined) throw new DataError(`writeImageFolder: ${outC} channels; PNG holds 1, 2, 3 or 4`);
  if (c !== outC && !(c === 1 && outC >= 3)) throw new DataError(`writeImageFolder: cannot turn ${c} channel(s) into ${outC}`);
  const names = folderNames(d);
  for (const name of names) fs.mkdirSync(path.join(dir, name), { recursive: true });
  const size = h * w * c;
  const digits = String(d.labels.length - 1).length;
  for (let i = 0; i < d.labels.length; i++) {
    const resized = resizeBilinear(d.images.subarray(i * size, (i + 1) * size), [h, w, c], outH, outW);
    const png = new PNG({ width: outW, height: outH });
    png.data = rgbaOf(resized, outH * outW, c);
    const bytes = PNG.sync.write(png, { colorType: COLOR_TYPES[outC], inputColorType: 6, inputHasAlpha: true });
    fs.writeFileSync(path.join(dir, names[d.labels[i]], `${String(i).padStart(digits, '0')}.png`), bytes);
  }
  return dir;
}
