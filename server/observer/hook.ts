/**
 * The seam between the coordinator and the honest-but-curious observer. Types only.
 *
 * The coordinator calls `observe` once for every update it accepts, synchronously, right after
 * decoding and validation, before aggregation; the observer must not block (it queues the work for
 * its worker pool) and must not mutate the arrays it is given (the coordinator hands over copies it
 * will not touch again). After the last round the coordinator awaits `drain()`, which resolves once
 * every queued attack has finished and been scored, and puts the records into results.json.
 *
 * Ground truth never travels through `ObservedUpdate`: scoring code asks the client for it over the
 * simulator-only evaluation channel, and only after the attack on that update has finished.
 */
import type { AttackRecord, AttackView } from '../report/results';
import type { UpdateKind } from './attacks/types';

export interface ObservedUpdate {
  /** 1-based round number. */
  round: number;
  /** Client id ("c0", "c1", …), or "aggregate" for view "aggregate". */
  clientId: string;
  /** The update exactly as received (decoded float32), after the client's own defences. */
  update: Float32Array;
  /** fedsgd → 'gradient'; fedavg → 'weight-delta' (θ_local − θ_global). */
  updateKind: UpdateKind;
  /** Example count the client declared for weighting (fedsgd: its batch size). */
  numExamples: number;
  /** The global parameters broadcast at the start of this round (flat, specs order). */
  globalParams: Float32Array;
  /** 'plain': one client's update in the clear; 'masked': under secure aggregation; 'aggregate': the unmasked sum. */
  view: AttackView;
  /** Size of the websocket frame that carried the update, in bytes (0 when not applicable). */
  frameBytes: number;
  /**
   * Set when the server itself clipped the update to this L2 norm before anyone looked at it
   * (server-side DP-FedAvg): the curious server then attacks the clipped update it aggregates.
   */
  serverClippedTo?: number;
}

/** Ground truth of one client's update: the exact examples and labels it used, in order. */
export interface GroundTruth {
  /** NHWC flat, [count, h, w, c], values in [0, 1]. */
  images: Float32Array;
  labels: number[];
  count: number;
}

/**
 * Simulator-only: the coordinator implements it over the `eval.truth-request` / `eval.truth`
 * messages. Only scoring code may call it, and only after the attack has finished.
 * Rejects when the client is gone or never sent an update in that round.
 */
export interface EvaluationChannel {
  fetchTruth(round: number, clientId: string): Promise<GroundTruth>;
}

export interface UpdateObserver {
  /** Hand over one accepted update; must return quickly (queue, don't compute). */
  observe(update: ObservedUpdate): void;
  /** Resolves when every observed update has been attacked and scored. */
  drain(): Promise<AttackRecord[]>;
  /** Stop workers and free resources; safe to call more than once, also after a failure. */
  close(): Promise<void>;
}
