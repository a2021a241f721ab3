/**
 * Who pairs with whom, and how many of them must remain.
 *
 * SecAgg (neighbours = 0, or ≥ n − 1): every client pairs with every other; shares are t-out-of-n.
 *
 * SecAgg+ (Bell et al. 2020; 0 < neighbours < n − 1): clients sit on a ring in an order drawn from a
 * public seed and each pairs with the ⌈k/2⌉ nearest on either side — a k-regular graph for even k,
 * (k+1)-regular for odd k. A client Shamir-shares b_u and s_u^SK only within its neighbourhood
 * N(u) ∪ {u} and masks only with N(u).
 *
 * Threshold semantics. `threshold` t (a count, or a fraction of the selected n when ≤ 1) is the number
 * of clients that must survive each stage, in both modes. Under SecAgg+ the Shamir threshold within a
 * neighbourhood of size d+1 is t_k = ⌈(d+1)·t/n⌉: the same fraction, applied locally. Unmasking then also
 * needs, for every client v, t_k responders from N(v) ∪ {v}; if a neighbourhood is hit harder than the
 * cohort, the round aborts naming v even though t clients survived overall.
 */
import { Rng } from '../random';
import { SecAggError } from './errors';

/** Resolves the scenario's threshold to a count of clients for a cohort of n. */
export function resolveThreshold(threshold: number, n: number): number {
  if (!(threshold > 0) || !Number.isFinite(threshold)) {
    throw new SecAggError(`secure aggregation: threshold must be a positive count or a fraction in (0, 1], got ${threshold}`);
  }
  if (threshold <= 1) return Math.max(1, Math.ceil(threshold * n - 1e-9));
  if (!Number.isInteger(threshold)) {
    throw new SecAggError(`secure aggregation: threshold ${threshold} is above 1, so it must be a whole count of clients`);
  }
  if (threshold > n) {
    throw new SecAggError(`secure aggregation: threshold ${threshold} is larger than the ${n} selected clients`);
  }
  return threshold;
}

export interface PairingGraph {
  /** Participants in protocol order; a client's index decides the sign of a pairwise mask. */
  readonly participants: readonly string[];
  /** Neighbours of each client (never itself). */
  neighbours(clientId: string): ReadonlySet<string>;
  /** Shamir threshold for the shares of `clientId`. */
  shamirThreshold(clientId: string): number;
  /** True when every client pairs with every other (plain SecAgg). */
  readonly complete: boolean;
}

export function buildPairingGraph(participants: readonly string[], threshold: number, neighbours: number, graphSeed: number): PairingGraph {
  const n = participants.length;
  if (new Set(participants).size !== n) throw new SecAggError('secure aggregation: participant ids must be distinct');
  const complete = neighbours === 0 || neighbours >= n - 1;
  const map = new Map<string, Set<string>>();
  if (complete) {
    for (const u of participants) map.set(u, new Set(participants.filter((v) => v !== u)));
  } else {
    const ring = new Rng(graphSeed).shuffle([...participants]);
    const half = Math.ceil(neighbours / 2);
    for (const u of participants) map.set(u, new Set());
    for (let i = 0; i < n; i++) {
      for (let d = 1; d <= half; d++) {
        const u = ring[i]!;
        const v = ring[(i + d) % n]!;
        map.get(u)!.add(v);
        map.get(v)!.add(u);
      }
    }
  }
  const shamir = new Map<string, number>();
  for (const u of participants) {
    const size = map.get(u)!.size + 1;
    shamir.set(u, complete ? threshold : Math.min(size, Math.max(1, Math.ceil((size * threshold) / n - 1e-9))));
  }
  return {
    participants,
    complete,
    neighbours: (id) => {
      const set = map.get(id);
      if (!set) throw new SecAggError(`secure aggregation: ${id} is not a participant of this round`);
      return set;
    },
    shamirThreshold: (id) => {
      const t = shamir.get(id);
      if (t === undefined) throw new SecAggError(`secure aggregation: ${id} is not a participant of this round`);
      return t;
    },
  };
}
