/**
 * A seeded synthetic image dataset, for fast tests and shapes MNIST does not have. Each class has
 * a prototype made of a few Gaussian blobs with per-channel intensities; an example is its class
 * prototype scaled by a random contrast, plus Gaussian pixel noise, clipped to [0, 1]. Classes
 * are distinct enough that a small model learns them in a few steps, and the noise makes every
 * example unique (so reconstructions can be told apart).
 */
import { Rng } from '../random';
import type { ImageShape } from '../models/types';
import { DataError } from './errors';
import type { Dataset } from './types';

export interface SyntheticOptions {
  shape: ImageShape;
  classes: number;
  size: number;
  seed: number;
  /** Standard deviation of the per-pixel noise; default 0.1. */
  noise?: number;
}

const BLOBS_PER_CLASS = 3;

function prototype(rng: Rng, [h, w, c]: ImageShape): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let b = 0; b < BLOBS_PER_CLASS; b++) {
    const cy = rng.uniform(0, h);
    const cx = rng.uniform(0, w);
    // Blob width scales with the image so patterns look alike at 8×8 and 32×32.
    const sigma = rng.uniform(0.12, 0.3) * Math.max(h, w);
    const weight = Array.from({ length: c }, () => rng.uniform(0.3, 1));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const g = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma * sigma));
        for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] += g * weight[ch];
      }
    }
  }
  let max = 0;
  for (const v of out) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < out.length; i++) out[i] /= max;
  return out;
}

/** Labels are balanced (example i has class i mod classes); the result depends only on the options. */
export function makeSynthetic(options: SyntheticOptions): Dataset {
  const { shape, classes, size, seed } = options;
  const noise = options.noise ?? 0.1;
  if (!shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new DataError(`synthetic data: shape must be three positive integers [h, w, c], got [${shape.join(', ')}]`);
  }
  if (!Number.isInteger(classes) || classes < 1) throw new DataError(`synthetic data: classes must be a positive integer, got ${classes}`);
  if (!Number.isInteger(size) || size < 1) throw new DataError(`synthetic data: size must be a positive integer, got ${size}`);
  const rng = new Rng(seed);
  const protoRng = rng.fork('synthetic-prototypes');
  const exampleRng = rng.fork('synthetic-examples');
  const prototypes = Array.from({ length: classes }, () => prototype(protoRng, shape));
  const pixels = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(size * pixels);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % classes;
    labels[i] = label;
    const proto = prototypes[label];
    const contrast = exampleRng.uniform(0.7, 1);
    const base = i * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = proto[p] * contrast + exampleRng.normal(0, noise);
      images[base + p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { name: `synthetic-${shape.join('x')}-${classes}`, shape: [...shape], numClasses: classes, images, labels };
}
