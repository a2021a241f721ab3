/**
 * Partitioning a training set among clients. Every partitioner returns one index list per client
 * (indices into the training set, ascending); the lists are disjoint, and the result depends only
 * on the labels, the options and the Rng's seed.
 *
 * Empty clients: a client without examples could not train, so no partitioner returns one. `iid`
 * and `dirichlet` need at least one example per client and throw a DataError otherwise;
 * `dirichlet` redraws the proportions when a draw leaves a client empty and, if that keeps
 * happening (tiny α, many clients), moves single examples from the largest clients to the empty
 * ones. `by-class` throws when a class has fewer examples than the clients that share it.
 */
import type { Rng } from '../random';
import { DataError } from './errors';

export type PartitionKind = 'iid' | 'dirichlet' | 'by-class';

export interface PartitionOptions {
  kind: PartitionKind;
  clients: number;
  numClasses: number;
  /** dirichlet: concentration α; small α gives each client few dominant classes. */
  alpha?: number;
  /** by-class: the number of distinct classes each client holds. */
  classesPerClient?: number;
}

const DIRICHLET_REDRAWS = 100;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function requireExamplesPerClient(n: number, clients: number, kind: string): void {
  if (n < clients) {
    throw new DataError(
      `${kind} partition: ${n} training examples cannot give each of ${clients} clients at least one; ` +
        'use fewer clients or more data (data.limit, data.testFraction)',
    );
  }
}

/** Shuffled examples dealt into `clients` contiguous chunks whose sizes differ by at most one. */
export function partitionIid(n: number, clients: number, rng: Rng): number[][] {
  requireExamplesPerClient(n, clients, 'iid');
  const order = rng.shuffle(range(n));
  const shards: number[][] = [];
  for (let c = 0; c < clients; c++) {
    shards.push(order.slice(Math.floor((c * n) / clients), Math.floor(((c + 1) * n) / clients)));
  }
  return shards.map((s) => s.sort((a, b) => a - b));
}

function byLabel(labels: ArrayLike<number>, numClasses: number, rng: Rng): number[][] {
  const lists: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < numClasses)) throw new DataError(`partition: label ${y} of example ${i} is out of range 0–${numClasses - 1}`);
    lists[y].push(i);
  }
  return lists.map((l) => rng.shuffle(l));
}

/** Splits `items` into consecutive pieces with sizes proportional to `weights` (largest remainder). */
function splitProportionally(items: number[], weights: number[]): number[][] {
  const total = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (items.length * w) / total);
  const sizes = exact.map(Math.floor);
  let left = items.length - sizes.reduce((s, k) => s + k, 0);
  const byRemainder = range(weights.length).sort((a, b) => exact[b] - sizes[b] - (exact[a] - sizes[a]) || a - b);
  for (let j = 0; left > 0; j++, left--) sizes[byRemainder[j % byRemainder.length]]++;
  const pieces: number[][] = [];
  let start = 0;
  for (const k of sizes) {
    pieces.push(items.slice(start, start + k));
    start += k;
  }
  return pieces;
}

function dirichlet(rng: Rng, alpha: number, k: number): number[] {
  const g = range(k).map(() => rng.gamma(alpha));
  const sum = g.reduce((s, v) => s + v, 0);
  // With tiny α every gamma draw can underflow to 0; fall back to one random winner.
  if (!(sum > 0)) {
    const out = new Array<number>(k).fill(0);
    out[rng.int(k)] = 1;
    return out;
  }
  return g.map((v) => v / sum);
}

/**
 * For each class, client proportions p ~ Dirichlet(α, …, α) (from normalised Gamma(α) draws);
 * the class's shuffled examples are split among the clients in those proportions.
 */
export function partitionDirichlet(labels: ArrayLike<number>, numClasses: number, clients: number, alpha: number, rng: Rng): number[][] {
  if (!(alpha > 0)) throw new DataError(`dirichlet partition: alpha must be positive, got ${alpha}`);
  requireExamplesPerClient(labels.length, clients, 'dirichlet');
  const classLists = byLabel(labels, numClasses, rng);
  let shards: number[][] = [];
  for (let attempt = 0; attempt < DIRICHLET_REDRAWS; attempt++) {
    shards = Array.from({ length: clients }, () => []);
    for (const list of classLists) {
      if (list.length === 0) continue;
      splitProportionally(list, dirichlet(rng, alpha, clients)).forEach((piece, c) => shards[c].push(...piece));
    }
    if (shards.every((s) => s.length > 0)) break;
  }
  // Still an empty client: give it one random example of the currently largest client.
  for (const shard of shards) {
    if (shard.length > 0) continue;
    const donor = shards.reduce((best, s) => (s.length > best.length ? s : best));
    shard.push(donor.splice(rng.int(donor.length), 1)[0]);
  }
  return shards.map((s) => s.sort((a, b) => a - b));
}

/**
 * Each client holds exactly k distinct classes. Client c gets the classes π((c·k + j) mod C) for
 * j < k, with π a seeded permutation of the C classes, so classes are shared by equally many
 * clients (±1) when clients·k ≥ C; with clients·k < C some classes are not used. A class's
 * examples are split evenly among the clients that hold it.
 */
export function partitionByClass(labels: ArrayLike<number>, numClasses: number, clients: number, k: number, rng: Rng): number[][] {
  if (!Number.isInteger(k) || k < 1 || k > numClasses) {
    throw new DataError(`by-class partition: classesPerClient must be an integer from 1 to ${numClasses} (the class count), got ${k}`);
  }
  const perm = rng.shuffle(range(numClasses));
  const holders: number[][] = Array.from({ length: numClasses }, () => []);
  for (let c = 0; c < clients; c++) {
    for (let j = 0; j < k; j++) holders[perm[(c * k + j) % numClasses]].push(c);
  }
  const classLists = byLabel(labels, numClasses, rng);
  const shards: number[][] = Array.from({ length: clients }, () => []);
  for (let y = 0; y < numClasses; y++) {
    const owners = holders[y];
    if (owners.length === 0) continue;
    if (classLists[y].length < owners.length) {
      throw new DataError(
        `by-class partition: class ${y} has ${classLists[y].length} training examples but ${owners.length} clients ` +
          `must hold it; use fewer clients, fewer classesPerClient, or more data`,
      );
    }
    splitProportionally(
      classLists[y],
      owners.map(() => 1),
    ).forEach((piece, j) => shards[owners[j]].push(...piece));
  }
  return shards.map((s) => s.sort((a, b) => a - b));
}

export function partition(labels: ArrayLike<number>, options: PartitionOptions, rng: Rng): number[][] {
  const { kind, clients, numClasses } = options;
  if (!Number.isInteger(clients) || clients < 1) throw new DataError(`partition: clients must be a positive integer, got ${clients}`);
  switch (kind) {
    case 'iid':
      return partitionIid(labels.length, clients, rng);
    case 'dirichlet':
      return partitionDirichlet(labels, numClasses, clients, options.alpha ?? 0.5, rng);
    case 'by-class':
      return partitionByClass(labels, numClasses, clients, options.classesPerClient ?? 2, rng);
    default: {
      const never: never = kind;
      throw new DataError(`partition: unknown kind ${String(never)}`);
    }
  }
}
