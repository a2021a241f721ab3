/**
 * DP-FedAvg plugged into the coordinator's aggregation seam (server/coordinator/aggregate.ts):
 *   if (ctx.scenario.defenses.dp) return dpFedAvgAggregate(updates, ctx);
 * Types are structural so that this module does not depend on the coordinator.
 */
import type { PrivacyRecord } from '../report/results';
import type { Rng } from '../../shared/random';
import type { Scenario } from '../scenario/schema';
import { dpAggregate } from './aggregate';
import { privacyAfterRounds } from './privacy';

export interface SeamUpdate {
  update: Float32Array;
  numExamples: number;
}

export interface SeamContext {
  /** 1-based round number: the accountant's step count so far. */
  round: number;
  scenario: Scenario;
  /** Clients selected this round: the fixed denominator of the mean. */
  selected: number;
  rng: Rng;
}

/** q = clientsPerRound / clients, the per-round sampling rate the accountant assumes. */
export function dpSampleRate(scenario: Scenario): number {
  return scenario.federation.clientsPerRound / scenario.federation.clients;
}

export function dpFedAvgAggregate(updates: readonly SeamUpdate[], ctx: SeamContext): { mean: Float32Array; privacy: PrivacyRecord } {
  const dp = ctx.scenario.defenses.dp;
  if (!dp) throw new Error('dpFedAvgAggregate: the scenario has no defenses.dp');
  const { aggregate } = dpAggregate(
    updates.map((u) => ({ update: u.update, weight: u.numExamples })),
    dp,
    ctx.rng,
    Math.max(ctx.selected, updates.length),
  );
  return { mean: aggregate, privacy: privacyAfterRounds(dp, dpSampleRate(ctx.scenario), ctx.round) };
}
