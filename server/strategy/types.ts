/**
 * Server strategies, after Flower's Strategy: `configure` says what is sent to whom for a round (the
 * ServerPayload and its `round.start` broadcast), `aggregate` turns the round's updates into the next
 * global parameters and says what the (curious) observer may see. Wrappers (DP-FedAvg) and workflows
 * (secure aggregation, server/secagg/stage.ts) work around any strategy through this interface.
 */
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import type { RoundStart } from '../../shared/wire';
import type { PrivacyRecord } from '../report/results';

/** One client's update as the collect stage accepted it. */
export interface AcceptedUpdate {
  clientId: string;
  round: number;
  update: Float32Array;
  numExamples: number;
  /** Size of the websocket frame that carried it. */
  frameBytes: number;
}

export interface RoundContext {
  round: number;
  /** θ at the start of the round. */
  globalParams: Float32Array;
  /** Selected client ids, in client-index order. */
  selected: readonly string[];
}

/** What is sent to whom this round. */
export interface RoundPlan {
  payload: ServerPayload;
  instructions: ReadonlyArray<{ clientId: string; message: RoundStart }>;
}

export interface Aggregation {
  /** θ for the next round. */
  params: Float32Array;
  /** The views of this round's updates the server may look at (and so the observer and captures). */
  observed: ObservedUpdate[];
  /** Set by DP-FedAvg: the privacy spent after this round. */
  privacy?: PrivacyRecord;
}

export interface Strategy {
  readonly name: string;
  configure(ctx: RoundContext): RoundPlan;
  /** `updates` in selected order, at least one. */
  aggregate(ctx: RoundContext, plan: RoundPlan, updates: readonly AcceptedUpdate[]): Aggregation;
  /** θ_next from a mean update some other step computed (a wrapper's noisy mean, secure aggregation's unmasked mean). */
  applyMean(globalParams: Float32Array, mean: Float32Array): Float32Array;
}
