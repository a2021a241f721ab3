/**
 * The round state machine: select → collect (broadcast, gather until all answered or deadline) →
 * aggregate (example-weighted) → evaluate on the held-out test set → next round.
 */
import type { Scenario } from '../scenario/schema';
import type { RoundRecord } from '../report/results';
import type { Dataset } from '../../shared/data/types';
import type { Model } from '../../shared/models';
import { Rng } from '../../shared/random';
import { firstNonFinite } from '../../shared/wire';
import type { ObservedUpdate } from '../observer/hook';
import type { ClientHub } from './hub';
import { aggregateUpdates, applyAggregate } from './aggregate';
import { collectPlainUpdates } from './collect';
import { evaluate } from './evaluate';
import { selectClients } from './select';
import type { CollectStage } from './stage';

export interface RoundsOptions {
  scenario: Scenario;
  hub: ClientHub;
  model: Model;
  paramCount: number;
  test: Dataset;
  initialParams: Float32Array;
  /** Every accepted update (and any other view a stage produces), exactly as received. */
  observe: (u: ObservedUpdate) => void;
  /** The collect stage; default plain updates (secure aggregation plugs its own in). */
  collect?: CollectStage;
  onRound?: (record: RoundRecord) => void;
  log: (line: string) => void;
}

export interface RoundsResult {
  rounds: RoundRecord[];
  finalParams: Float32Array;
}

export async function runRounds(opts: RoundsOptions): Promise<RoundsResult> {
  const { scenario, hub } = opts;
  const f = scenario.federation;
  const collect = opts.collect ?? collectPlainUpdates;
  let params = opts.initialParams;
  const rounds: RoundRecord[] = [];
  for (let round = 1; round <= f.rounds; round++) {
    const started = Date.now();
    const connected = hub.connected();
    if (connected.length === 0) throw new Error(`round ${round}: no clients are connected`);
    const selected = selectClients(connected, f.clientsPerRound, scenario.seed, round);
    if (selected.length < f.clientsPerRound) opts.log(`server: round ${round}: only ${selected.length} clients connected, ${f.clientsPerRound} wanted`);
    const globalParams = params;
    const result = await collect({ hub, round, selected, globalParams, paramCount: opts.paramCount, federation: f, observe: opts.observe, log: opts.log });

    const record: RoundRecord = { round, participants: selected, dropped: result.dropped, testAccuracy: 0, testLoss: 0, seconds: 0 };
    if (result.aggregate) {
      params = applyAggregate(globalParams, result.aggregate.mean, f.algorithm, f.learningRate);
    } else if (result.updates.length > 0) {
      const agg = aggregateUpdates(result.updates, { round, scenario, selected: selected.length, rng: new Rng(scenario.seed).fork(`aggregate/round-${round}`) });
      params = applyAggregate(globalParams, agg.mean, f.algorithm, f.learningRate);
      if (agg.privacy) record.privacy = agg.privacy;
    } else {
      opts.log(`server: round ${round}: no update arrived; the global model is unchanged`);
    }
    const bad = firstNonFinite(params);
    if (bad >= 0) {
      // Clients would refuse a round.start carrying it; stop with the reason instead of timing out.
      throw new Error(`round ${round}: the global model holds ${params[bad]} at parameter ${bad} after aggregation; training diverged (try a smaller federation.learningRate)`);
    }
    if (result.updates.length > 0) record.updateBytes = Object.fromEntries(result.updates.map((u) => [u.clientId, u.frameBytes]));
    if (result.secureAggregation) record.secureAggregation = result.secureAggregation;
    Object.assign(record, evaluate(opts.model, params, opts.test, f.evalLimit));
    record.seconds = (Date.now() - started) / 1000;
    rounds.push(record);
    opts.onRound?.(record);
  }
  return { rounds, finalParams: params };
}
