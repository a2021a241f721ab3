/**
 * The seeded train/test split. The examples are shuffled once; `limit` (> 0) keeps the first
 * `limit` of that shuffle; the last round(n·testFraction) of those (at least 1, at most n − 1)
 * become the test set and the rest the training set, both kept in shuffled order.
 */
import type { Rng } from '../random';
import { DataError } from './errors';

export interface SplitIndices {
  train: number[];
  test: number[];
}

export function splitIndices(n: number, testFraction: number, limit: number, rng: Rng): SplitIndices {
  if (!(testFraction > 0 && testFraction < 1))
    throw new DataError(`data.testFraction must be between 0 and 1 (exclusive), got ${testFraction}`);
  if (!Number.isInteger(limit) || limit < 0) throw new DataError(`data.limit must be a non-negative integer, got ${limit}`);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const used = limit > 0 ? order.slice(0, Math.min(limit, n)) : order;
  if (used.length < 2) {
    throw new DataError(`the dataset has ${used.length} usable example(s); a train/test split needs at least 2 (check data.limit)`);
  }
  const testCount = Math.min(used.length - 1, Math.max(1, Math.round(used.length * testFraction)));
  return { train: used.slice(0, used.length - testCount), test: used.slice(used.length - testCount) };
}
