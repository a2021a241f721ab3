/** Seeded choice of a round's participants among the connected clients. */
import { Rng } from '../../shared/random';

/**
 * `k` of the connected clients (all of them when fewer are connected), drawn with
 * `new Rng(seed).fork("select/round-r")`, returned in client-index order (input order).
 */
export function selectClients(connected: readonly string[], k: number, seed: number, round: number): string[] {
  if (connected.length <= k) return [...connected];
  const picked = new Set(new Rng(seed).fork(`select/round-${round}`).sample(connected.length, k));
  return connected.filter((_, i) => picked.has(i));
}
