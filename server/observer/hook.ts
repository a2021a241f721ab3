/**
 * The seam between the coordinator and the honest-but-curious observer. Types only.
 *
 * After each round's aggregation the round loop calls `observe` once for every view the strategy
 * (or the secure-aggregation workflow) lets the server see, with that round's payload; the observer
 * must not block (it queues the work for its worker pool) and must not mutate the arrays it is given.
 * After the last round the coordinator awaits `drain()`, which resolves once every queued attack has
 * finished and been scored, and puts the records into results.json.
 *
 * Ground truth (TrueUserData) never travels through `ObservedUpdate`: scoring code asks the client
 * for it over the simulator-only evaluation channel, and only after the attack has finished.
 */
import type { ObservedUpdate, ServerPayload, TrueUserData } from '../../shared/contract';
import type { AttackRecord } from '../report/results';

export type { ObservedUpdate, ServerPayload } from '../../shared/contract';

/** Ground truth of one client's update: the exact examples and labels it used, in order. */
export type GroundTruth = TrueUserData;

/**
 * Simulator-only: the coordinator implements it over the `eval.truth-request` / `eval.truth`
 * messages. Only scoring code may call it, and only after the attack has finished.
 * Rejects when the client is gone or never sent an update in that round.
 */
export interface EvaluationChannel {
  fetchTruth(round: number, clientId: string): Promise<GroundTruth>;
}

export interface UpdateObserver {
  /** Hand over one update the server may look at, with what it sent that round; must return quickly. */
  observe(update: ObservedUpdate, payload: ServerPayload): void;
  /** Resolves when every observed update has been attacked and scored. */
  drain(): Promise<AttackRecord[]>;
  /** Stop workers and free resources; safe to call more than once, also after a failure. */
  close(): Promise<void>;
}
