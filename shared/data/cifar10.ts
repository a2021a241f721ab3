/**
 * CIFAR-10 binary batches (www.cs.toronto.edu/~kriz/cifar.html, "binary version"): each record is
 * 1 label byte (0–9) then 3072 pixel bytes, the 1024 red, 1024 green and 1024 blue values of a
 * 32×32 image in row-major order. We convert the planes to NHWC in [0, 1]. Several files (e.g.
 * data_batch_1.bin … data_batch_5.bin) are concatenated in the order given.
 */
import { DataError } from './errors';
import { readDataFile } from './files';
import type { Dataset } from './types';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const CLASSES = 10;

export function loadCifar10(files: readonly string[]): Dataset {
  if (files.length === 0) throw new DataError('cifar10: data.files is empty; list at least one binary batch file');
  const buffers = files.map((file) => {
    const bytes = readDataFile(file);
    if (bytes.length === 0 || bytes.length % RECORD !== 0) {
      const expected = Math.max(1, Math.ceil(bytes.length / RECORD)) * RECORD;
      throw new DataError(
        `${file}: truncated CIFAR-10 batch: records are ${RECORD} bytes, expected ${expected} bytes, got ${bytes.length}`,
      );
    }
    return { file, bytes };
  });
  const count = buffers.reduce((s, b) => s + b.bytes.length / RECORD, 0);
  const images = new Float32Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  let i = 0;
  for (const { file, bytes } of buffers) {
    for (let r = 0; r < bytes.length / RECORD; r++, i++) {
      const base = r * RECORD;
      const y = bytes[base];
      if (y >= CLASSES) throw new DataError(`${file}: label ${y} of record ${r} is out of range 0–${CLASSES - 1}`);
      labels[i] = y;
      const out = i * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        images[out + 3 * p] = bytes[base + 1 + p] / 255;
        images[out + 3 * p + 1] = bytes[base + 1 + PLANE + p] / 255;
        images[out + 3 * p + 2] = bytes[base + 1 + 2 * PLANE + p] / 255;
      }
    }
  }
  return { name: 'cifar10', shape: [SIDE, SIDE, 3], numClasses: CLASSES, images, labels };
}

/** Encodes a [32, 32, 3] Dataset as one CIFAR-10 binary batch (pixels rounded to 0–255); for tests and tools. */
export function encodeCifar10(d: Dataset): Buffer {
  if (d.shape[0] !== SIDE || d.shape[1] !== SIDE || d.shape[2] !== 3) {
    throw new DataError(`CIFAR-10 records are 32×32×3; dataset ${d.name} is ${d.shape.join('×')}`);
  }
  const out = Buffer.alloc(d.labels.length * RECORD);
  for (let i = 0; i < d.labels.length; i++) {
    const base = i * RECORD;
    out[base] = d.labels[i];
    for (let p = 0; p < PLANE; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = d.images[i * 3 * PLANE + 3 * p + ch];
        out[base + 1 + ch * PLANE + p] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
  }
  return out;
}
