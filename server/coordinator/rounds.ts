/**
 * The round loop, one job per step: select → configure (the strategy's round plan) → collect (the
 * stage gathers updates until all answered or the deadline) → aggregate (the strategy) → observe
 * (hand the views the server may see to the observer) → evaluate on the held-out test set.
 */
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import type { Scenario } from '../scenario/schema';
import type { GuardRefusal, RoundRecord } from '../report/results';
import type { ErrorMessage } from '../../shared/wire';
import type { Dataset } from '../../shared/data/types';
import type { Model } from '../../shared/models';
import { firstNonFinite } from '../../shared/wire';
import { strategyFor } from '../strategy';
import type { Strategy } from '../strategy/types';
import { definitionFor } from '../../shared/models/definition';
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
  test: Dataset;
  initialParams: Float32Array;
  /** FedSGD / FedAvg / DP-FedAvg … (server/strategy); default the scenario's (strategyFor). */
  strategy?: Strategy;
  /** Every view of an update the server may look at, with the payload of its round. */
  observe: (u: ObservedUpdate, payload: ServerPayload) => void;
  /** The collect stage; default plain updates (secure aggregation plugs its own in). */
  collect?: CollectStage;
  onRound?: (record: RoundRecord) => void;
  log: (line: string) => void;
}

export interface RoundsResult {
  rounds: RoundRecord[];
  finalParams: Float32Array;
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
}

/** The strategy's step from what the stage collected (its own mean under secure aggregation). */
function step(opts: RoundsOptions & { strategy: Strategy }, ctx: Parameters<Strategy['configure']>[0], plan: ReturnType<Strategy['configure']>, result: CollectResult): Stepped {
  const views = result.views ?? [];
  if (result.aggregate) return { params: opts.strategy.applyMean(ctx.globalParams, result.aggregate.mean), observed: views, record: {} };
  if (result.updates.length === 0) {
    opts.log(`server: round ${ctx.round}: no update arrived; the global model is unchanged`);
    return { params: ctx.globalParams, observed: views, record: {} };
  }
  const agg = opts.strategy.aggregate(ctx, plan, result.updates);
  return { params: agg.params, observed: [...views, ...agg.observed], record: agg.privacy ? { privacy: agg.privacy } : {} };
}

export async function runRounds(opts: RoundsOptions): Promise<RoundsResult> {
  const { scenario, hub } = opts;
  const f = scenario.federation;
  const collect = opts.collect ?? collectPlainUpdates;
  const strategy = opts.strategy ?? strategyFor({ scenario, model: definitionFor(scenario.model, opts.test.shape, opts.test.numClasses) });
  let params = opts.initialParams;
  const rounds: RoundRecord[] = [];
  for (let round = 1; round <= f.rounds; round++) {
    const started = Date.now();
    const connected = hub.connected();
    if (connected.length === 0) throw new Error(`round ${round}: no clients are connected`);
    const selected = selectClients(connected, f.clientsPerRound, scenario.seed, round);
    if (selected.length < f.clientsPerRound) opts.log(`server: round ${round}: only ${selected.length} clients connected, ${f.clientsPerRound} wanted`);
    const ctx = { round, globalParams: params, selected };
    const plan = strategy.configure(ctx);
    const guards = listenForRefusals(hub, round);
    const result = await collect({ hub, round, selected, plan, paramCount: opts.paramCount, federation: f, log: opts.log }).finally(guards.stop);
    const stepped = step({ ...opts, strategy }, ctx, plan, result);
    for (const u of stepped.observed) observeSafely(opts, u, plan.payload);
    params = stepped.params;
    const bad = firstNonFinite(params);
    if (bad >= 0) {
      // Clients would refuse a round.start carrying it; stop with the reason instead of timing out.
      throw new Error(`round ${round}: the global model holds ${params[bad]} at parameter ${bad} after aggregation; training diverged (try a smaller federation.learningRate)`);
    }
    const record: RoundRecord = { round, participants: selected, dropped: result.dropped, testAccuracy: 0, testLoss: 0, seconds: 0, ...stepped.record };
    if (result.updates.length > 0) record.updateBytes = Object.fromEntries(result.updates.map((u) => [u.clientId, u.frameBytes]));
    if (result.secureAggregation) record.secureAggregation = result.secureAggregation;
    // Client order, so results do not depend on arrival order.
    if (guards.refusals.length > 0) record.refusals = guards.refusals.sort((a, b) => a.client.localeCompare(b.client, 'en', { numeric: true }));
    Object.assign(record, evaluate(opts.model, params, opts.test, f.evalLimit));
    record.seconds = (Date.now() - started) / 1000;
    rounds.push(record);
    opts.onRound?.(record);
  }
  return { rounds, finalParams: params };
}
