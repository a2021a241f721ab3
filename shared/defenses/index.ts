/**
 * Client-side defences on the update, applied as a pipeline in `defenses.order`.
 * STUB: the defences issue fills it. Returns a new vector (never mutates the input).
 */
import type { DefensesConfig } from '../scenario/schema';
import type { Rng } from '../random';

export interface DefenseReport {
  /** Per defence name: what it did (e.g. norm before/after, zeroed count). */
  [defense: string]: Record<string, number>;
}

export function applyClientDefenses(update: Float32Array, config: DefensesConfig, rng: Rng): { update: Float32Array; report: DefenseReport } {
  void config;
  void rng;
  return { update: update.slice(), report: {} };
}
