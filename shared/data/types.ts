import type { ImageShape } from '../models/types';

/** Images NHWC in [0, 1], flat row-major: example i occupies [i·h·w·c, (i+1)·h·w·c). */
export interface Dataset {
  name: string;
  shape: ImageShape;
  numClasses: number;
  images: Float32Array;
  labels: Int32Array;
  /** Class names in label order, when the source names its classes (image folders, CSV labels). */
  classNames?: string[];
  /** What a loader did to the raw values (e.g. CSV standardisation), so it can be reported and undone. */
  preprocessing?: Preprocessing;
}

/** Tabular features: one name per input column; numeric ones were standardised as (x − mean) / std. */
export interface Preprocessing {
  features: string[];
  standardized: { feature: string; mean: number; std: number }[];
}

export function exampleSize(d: Pick<Dataset, 'shape'>): number {
  return d.shape[0] * d.shape[1] * d.shape[2];
}

export function datasetSize(d: Dataset): number {
  return d.labels.length;
}

/** A new Dataset holding the given examples, in the given order. */
export function subset(d: Dataset, indices: ArrayLike<number>, name = d.name): Dataset {
  const size = exampleSize(d);
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    images.set(d.images.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = d.labels[i];
  }
  const named = d.classNames ? { classNames: d.classNames } : {};
  const processed = d.preprocessing ? { preprocessing: d.preprocessing } : {};
  return { name, shape: d.shape, numClasses: d.numClasses, images, labels, ...named, ...processed };
}
