/**
 * The round loop, one job per step: select → configure (the strategy's round plan) → collect (the
 * stage gathers updates until all answered or the deadline) → aggregate (the strategy) → observe
 * (hand the views the server may see to the observer) → evaluate on the held-out test set.
 * A non-finite aggregate is refused (the global model is kept, the round record says why); with no
 * client connected the loop waits `reconnectTimeoutMs` for one, then ends "aborted".
 */
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import type { Scenario } from '../scenario/schema';
import type { AggregationRecord, GuardRefusal, RoundRecord } from '../report/results';
import type { ErrorMessage } from '../../shared/wire';
import type { Dataset } from '../../shared/data/types';
import type { Model } from '../../shared/models';
import { firstNonFinite } from '../../shared/wire';
import { describeAggregation, strategyFor } from '../strategy';
import type { Strategy } from '../strategy/types';
import type { ClientHub } from './hub';
import { collectPlainUpdates } from './collect';
import { evaluate } from './evaluate';
import { selectClients } from './select';
import type { CollectResult, CollectStage } from './stage';

export interface RoundsOptions {
  scenario: Scenario;
  hub: ClientHub;
  model: Model;
  paramCount: number;
  /** Held-out examples the global model is evaluated on each round; null: the server holds none (accuracy not measured). */
  test: Dataset | null;
  /** θ before `firstRound`. */
  initialParams: Float32Array;
  /** Resuming: the first round to run (default 1). */
  firstRound?: number;
  /** FedSGD / FedAvg / DP-FedAvg … (server/strategy); default the scenario's (strategyFor). */
  strategy?: Strategy;
  /** Every view of an update the server may look at, with the payload of its round. */
  observe: (u: ObservedUpdate, payload: ServerPayload) => void;
  /** The collect stage; default plain updates (secure aggregation plugs its own in). */
  collect?: CollectStage;
  /** The most examples a client can have used in a round (its shard); its updates' weights are capped there. */
  exampleCap?: (clientId: string) => number;
  /** After each round, with θ after it (checkpoints). */
  onRound?: (record: RoundRecord, params: Float32Array) => void;
  log: (line: string) => void;
}

export interface RoundsResult {
  rounds: RoundRecord[];
  finalParams: Float32Array;
  /** "aborted": no client came back within reconnectTimeoutMs; `rounds` holds what ran. */
  status: 'finished' | 'aborted';
  abortReason?: string;
}

/** The observer (and capture writer) must not break the round: a failure there is logged. */
function observeSafely(opts: RoundsOptions, u: ObservedUpdate, payload: ServerPayload): void {
  try {
    opts.observe(u, payload);
  } catch (err) {
    opts.log(`server: round ${u.round}: observing ${u.sender}'s update failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Listens for the round's guard refusals ('guard-refused' errors about round.start, "<guard>: <reason>"). */
function listenForRefusals(hub: ClientHub, round: number): { refusals: GuardRefusal[]; stop: () => void } {
  const refusals: GuardRefusal[] = [];
  const onError = (client: string, err: ErrorMessage) => {
    if (err.code !== 'guard-refused' || err.ref !== 'round.start') return;
    const m = /^([a-z-]+): ([\s\S]*)$/.exec(err.message);
    refusals.push({ round, client, guard: m ? m[1] : 'unknown', reason: m ? m[2] : err.message });
  };
  hub.on('client-error', onError);
  return { refusals, stop: () => hub.off('client-error', onError) };
}

interface Stepped {
  params: Float32Array;
  observed: ObservedUpdate[];
  record: Partial<RoundRecord>;
  adjustments: AggregationRecord['adjustments'];
}

/** The strategy's step from what the stage collected (its own mean under secure aggregation). */
function step(
  opts: RoundsOptions & { strategy: Strategy },
  ctx: Parameters<Strategy['configure']>[0],
  plan: ReturnType<Strategy['configure']>,
  result: CollectResult,
): Stepped {
  const views = result.views ?? [];
  const collected = result.adjustments ?? [];
  if (result.aggregate)
    return {
      params: opts.strategy.applyMean(ctx.globalParams, result.aggregate.mean),
      observed: views,
      record: {},
      adjustments: collected,
    };
  if (result.updates.length === 0) {
    opts.log(`server: round ${ctx.round}: no update arrived; the global model is unchanged`);
    return { params: ctx.globalParams, observed: views, record: {}, adjustments: collected };
  }
  const agg = opts.strategy.aggregate(ctx, plan, result.updates);
  return {
    params: agg.params,
    observed: [...views, ...agg.observed],
    record: agg.privacy ? { privacy: agg.privacy } : {},
    adjustments: [...collected, ...(agg.adjustments ?? [])],
  };
}

/** The connected clients, waiting up to reconnectTimeoutMs for one when none is; null when none came. */
async function connectedOrWait(opts: RoundsOptions, round: number): Promise<string[] | null> {
  if (opts.hub.connected().length > 0) return opts.hub.connected();
  const wait = opts.scenario.federation.reconnectTimeoutMs;
  opts.log(`server: round ${round}: no clients are connected; waiting up to ${wait} ms for one to reconnect`);
  try {
    await opts.hub.waitForReady(1, wait);
  } catch {
    return null;
  }
  return opts.hub.connected();
}

/** θ after the step, or the old θ with the reason when the step produced a non-finite value. */
function acceptedParams(
  round: number,
  before: Float32Array,
  after: Float32Array,
  log: (line: string) => void,
): { params: Float32Array; rejected?: string } {
  const bad = firstNonFinite(after);
  if (bad < 0) return { params: after };
  // Clients would refuse a round.start carrying it: keep θ and say why instead of ending the run.
  const rejected = `the aggregate gives ${after[bad]} at parameter ${bad}; the global model is kept (an update too large, or training diverged: try a robust federation.aggregation or a smaller learningRate)`;
  log(`server: round ${round}: ${rejected}`);
  return { params: before, rejected };
}

export async function runRounds(opts: RoundsOptions): Promise<RoundsResult> {
  const { scenario, hub } = opts;
  const f = scenario.federation;
  const collect = opts.collect ?? collectPlainUpdates;
  const strategy = opts.strategy ?? strategyFor({ scenario, model: opts.model.definition });
  const rule = describeAggregation(f.aggregation);
  let params = opts.initialParams;
  const rounds: RoundRecord[] = [];
  for (let round = opts.firstRound ?? 1; round <= f.rounds; round++) {
    const started = Date.now();
    const connected = await connectedOrWait(opts, round);
    if (!connected) {
      const abortReason = `round ${round}: no client connected within federation.reconnectTimeoutMs (${f.reconnectTimeoutMs} ms)`;
      opts.log(`server: ${abortReason}; ending the run`);
      return { rounds, finalParams: params, status: 'aborted', abortReason };
    }
    const selected = selectClients(connected, f.clientsPerRound, scenario.seed, round);
    if (selected.length < f.clientsPerRound)
      opts.log(`server: round ${round}: only ${selected.length} clients connected, ${f.clientsPerRound} wanted`);
    const ctx = { round, globalParams: params, selected };
    const plan = strategy.configure(ctx);
    const guards = listenForRefusals(hub, round);
    const result = await collect({
      hub,
      round,
      selected,
      plan,
      paramCount: opts.paramCount,
      federation: f,
      log: opts.log,
      exampleCap: opts.exampleCap,
    }).finally(guards.stop);
    const stepped = step({ ...opts, strategy }, ctx, plan, result);
    for (const u of stepped.observed) observeSafely(opts, u, plan.payload);
    const next = acceptedParams(round, params, stepped.params, opts.log);
    params = next.params;
    const record: RoundRecord = {
      round,
      participants: selected,
      dropped: result.dropped,
      testAccuracy: 0,
      testLoss: 0,
      seconds: 0,
      ...stepped.record,
    };
    if (result.updates.length > 0) record.updateBytes = Object.fromEntries(result.updates.map((u) => [u.clientId, u.frameBytes]));
    if (result.secureAggregation) record.secureAggregation = result.secureAggregation;
    if (rule !== 'mean' || stepped.adjustments.length > 0 || next.rejected) {
      record.aggregation = { rule, adjustments: stepped.adjustments, ...(next.rejected ? { rejectedAggregate: next.rejected } : {}) };
    }
    // Client order, so results do not depend on arrival order.
    if (guards.refusals.length > 0)
      record.refusals = guards.refusals.sort((a, b) => a.client.localeCompare(b.client, 'en', { numeric: true }));
    Object.assign(record, evaluate(opts.model, params, opts.test, f.evalLimit));
    record.seconds = (Date.now() - started) / 1000;
    rounds.push(record);
    opts.onRound?.(record, params);
  }
  return { rounds, finalParams: params, status: 'finished' };
}
