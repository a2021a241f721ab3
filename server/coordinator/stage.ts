/**
 * The "collect updates" stage of a round, as a replaceable step: the plain stage below, or secure
 * aggregation (server/secagg) when `defenses.secureAggregation` is set. A stage broadcasts the round
 * to the selected clients, gathers what they send until all have answered or the deadline passes,
 * hands every view it gets to the observer, and reports who dropped.
 */
import type { FederationConfig } from '../scenario/schema';
import type { SecureAggregationRecord } from '../report/results';
import type { ObservedUpdate } from '../observer/hook';
import type { ClientHub } from './hub';

export interface AcceptedUpdate {
  clientId: string;
  round: number;
  update: Float32Array;
  numExamples: number;
  /** Size of the websocket frame that carried it. */
  frameBytes: number;
}

export interface StageContext {
  hub: ClientHub;
  round: number;
  /** Selected client ids, in client-index order. */
  selected: string[];
  globalParams: Float32Array;
  paramCount: number;
  federation: FederationConfig;
  /** Hand a view of an update to the observer (and to the capture writer). */
  observe: (u: ObservedUpdate) => void;
  log: (line: string) => void;
}

export interface CollectResult {
  /** Individual updates in the clear (plain stage); empty under secure aggregation. */
  updates: AcceptedUpdate[];
  /** Selected clients whose contribution did not make it into the round. */
  dropped: string[];
  /** Under secure aggregation: the example-weighted mean update the protocol revealed. */
  aggregate?: { mean: Float32Array; clients: string[] };
  secureAggregation?: SecureAggregationRecord;
}

export type CollectStage = (ctx: StageContext) => Promise<CollectResult>;
