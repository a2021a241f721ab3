/**
 * Which examples a client trains on in a round (docs/protocol.md, "Local training"). Pure and
 * seeded, so the client can answer the evaluation channel later and an attacker who knows the
 * public config can unroll the same step structure.
 *
 * Epoch e of round r for client index k is the shard (indices 0…n−1) shuffled by
 * `new Rng(seed).fork("batches/client-k/round-r/epoch-e")`, cut into ⌈n/B⌉ consecutive batches
 * of B (the last one shorter when B does not divide n).
 *  - fedsgd: one batch, the first batch of epoch 0 (min(B, n) examples).
 *  - fedavg, localEpochs = E > 0: every batch of epochs 0…E−1, in order.
 *  - fedavg, localEpochs = 0: the first localSteps batches of epochs 0, 1, 2, … in order.
 */
import { Rng } from '../shared/random';

export interface SchedulePlan {
  algorithm: 'fedsgd' | 'fedavg';
  batchSize: number;
  localSteps: number;
  localEpochs: number;
}

export function epochBatches(n: number, batchSize: number, seed: number, clientIndex: number, round: number, epoch: number): number[][] {
  const order = new Rng(seed)
    .fork(`batches/client-${clientIndex}/round-${round}/epoch-${epoch}`)
    .shuffle(Array.from({ length: n }, (_, i) => i));
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/** The batches (indices into the client's shard) of one round, in training order. */
export function roundBatches(n: number, plan: SchedulePlan, seed: number, clientIndex: number, round: number): number[][] {
  if (n < 1) throw new Error(`client ${clientIndex} has no training examples`);
  const epoch = (e: number) => epochBatches(n, plan.batchSize, seed, clientIndex, round, e);
  if (plan.algorithm === 'fedsgd') return [epoch(0)[0]];
  if (plan.localEpochs > 0) {
    const all: number[][] = [];
    for (let e = 0; e < plan.localEpochs; e++) all.push(...epoch(e));
    return all;
  }
  const out: number[][] = [];
  for (let e = 0; out.length < plan.localSteps; e++) {
    for (const b of epoch(e)) {
      if (out.length === plan.localSteps) break;
      out.push(b);
    }
  }
  return out;
}

/** Distinct examples used, in order of first use (the ground truth the evaluation channel returns). */
export function distinctInOrder(batches: readonly number[][]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const b of batches)
    for (const i of b)
      if (!seen.has(i)) {
        seen.add(i);
        out.push(i);
      }
  return out;
}
