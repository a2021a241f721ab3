/**
 * `"dataset": "cifar100"`: CIFAR-100 binary files (www.cs.toronto.edu/~kriz/cifar.html, "binary
 * version": train.bin, test.bin). Each record is 1 coarse label byte (0–19), 1 fine label byte
 * (0–99), then 3072 pixel bytes: the 1024 red, 1024 green and 1024 blue values of a 32×32 image,
 * row-major. `label` picks the fine (100 classes) or coarse (20 superclasses) label. The archive
 * ships fine_label_names.txt and coarse_label_names.txt next to the .bin files; when the chosen
 * one sits in the folder of the first file, its lines become the class names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { DataError } from './errors';
import { readDataFile } from './files';
import type { Dataset } from './types';

const SIDE = 32;
const PLANE = SIDE * SIDE;
export const CIFAR100_RECORD = 2 + 3 * PLANE;
const CLASSES = { fine: 100, coarse: 20 } as const;

export const cifar100Schema = z.strictObject({
  /** Binary files (train.bin, test.bin), concatenated in this order. */
  files: z.array(z.string().min(1)).min(1),
  /** Which label is the class: "fine" (100 classes) or "coarse" (20 superclasses). */
  label: z.enum(['fine', 'coarse']).default('fine'),
});
export type Cifar100Config = z.input<typeof cifar100Schema>;

function readRecords(file: string): Buffer {
  const bytes = readDataFile(file);
  if (bytes.length === 0 || bytes.length % CIFAR100_RECORD !== 0) {
    throw new DataError(
      `${file}: not a CIFAR-100 binary file: its length ${bytes.length} is not a positive multiple of the ` +
        `${CIFAR100_RECORD}-byte record (${Math.floor(bytes.length / CIFAR100_RECORD)} whole records and ` +
        `${bytes.length % CIFAR100_RECORD} bytes left over)`,
    );
  }
  return bytes;
}

/** The names file's lines (blank lines dropped), when it exists next to the first data file. */
function classNamesBeside(firstFile: string, label: 'fine' | 'coarse'): string[] | undefined {
  const file = path.join(path.dirname(firstFile), `${label}_label_names.txt`);
  if (!fs.existsSync(file)) return undefined;
  const names = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (names.length !== CLASSES[label]) {
    throw new DataError(`${file}: has ${names.length} class names; CIFAR-100 has ${CLASSES[label]} ${label} classes`);
  }
  return names;
}

export function loadCifar100(input: Cifar100Config): Dataset {
  const { files, label } = cifar100Schema.parse(input);
  const buffers = files.map((file) => ({ file, bytes: readRecords(file) }));
  const numClasses = CLASSES[label];
  const labelOffset = label === 'coarse' ? 0 : 1;
  const count = buffers.reduce((s, b) => s + b.bytes.length / CIFAR100_RECORD, 0);
  const images = new Float32Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  let i = 0;
  for (const { file, bytes } of buffers) {
    for (let r = 0; r < bytes.length / CIFAR100_RECORD; r++, i++) {
      const base = r * CIFAR100_RECORD;
      const y = bytes[base + labelOffset];
      if (y >= numClasses) throw new DataError(`${file}: ${label} label ${y} of record ${r} is out of range 0–${numClasses - 1}`);
      labels[i] = y;
      const out = i * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        for (let ch = 0; ch < 3; ch++) images[out + 3 * p + ch] = bytes[base + 2 + ch * PLANE + p] / 255;
      }
    }
  }
  const classNames = classNamesBeside(files[0], label);
  const named = classNames ? { classNames } : {};
  return { name: `cifar100-${label}`, shape: [SIDE, SIDE, 3], numClasses, images, labels, ...named };
}

/**
 * Encodes a [32, 32, 3] Dataset as CIFAR-100 records (pixels rounded to 0–255) with the given
 * coarse and fine labels per example; for tests and tools.
 */
export function encodeCifar100(d: Pick<Dataset, 'shape' | 'images'>, coarse: ArrayLike<number>, fine: ArrayLike<number>): Buffer {
  if (d.shape[0] !== SIDE || d.shape[1] !== SIDE || d.shape[2] !== 3) {
    throw new DataError(`CIFAR-100 records are 32×32×3; got ${d.shape.join('×')}`);
  }
  const out = Buffer.alloc(fine.length * CIFAR100_RECORD);
  for (let i = 0; i < fine.length; i++) {
    const base = i * CIFAR100_RECORD;
    out[base] = coarse[i];
    out[base + 1] = fine[i];
    for (let p = 0; p < PLANE; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = d.images[i * 3 * PLANE + 3 * p + ch];
        out[base + 2 + ch * PLANE + p] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
  }
  return out;
}
