/**
 * The "collect" step of a round, as a replaceable stage: plain collection (collect.ts), or secure
 * aggregation (server/secagg) when `defenses.secureAggregation` is set. A stage sends the round plan
 * the strategy configured, gathers what the selected clients send until all have answered or the
 * deadline passes, and reports who dropped. Observing and aggregating are the round loop's jobs.
 */
import type { ObservedUpdate } from '../../shared/contract';
import type { FederationConfig } from '../scenario/schema';
import type { SecureAggregationRecord } from '../report/results';
import type { AcceptedUpdate, RoundPlan } from '../strategy/types';
import type { ClientHub } from './hub';

export type { AcceptedUpdate } from '../strategy/types';

export interface StageContext {
  hub: ClientHub;
  round: number;
  /** Selected client ids, in client-index order. */
  selected: string[];
  /** What the strategy sends to whom, and the payload behind it. */
  plan: RoundPlan;
  paramCount: number;
  /** Deadlines (roundTimeoutMs). */
  federation: FederationConfig;
  log: (line: string) => void;
}

export interface CollectResult {
  /** Individual updates in the clear (plain stage), in selected order; empty under secure aggregation. */
  updates: AcceptedUpdate[];
  /** Selected clients whose contribution did not make it into the round. */
  dropped: string[];
  /** Under secure aggregation: the example-weighted mean update the protocol revealed. */
  aggregate?: { mean: Float32Array; clients: string[] };
  /** Views the stage itself produced for the observer (secure aggregation: masked vectors, the aggregate). */
  views?: ObservedUpdate[];
  secureAggregation?: SecureAggregationRecord;
}

export type CollectStage = (ctx: StageContext) => Promise<CollectResult>;
