/**
 * Secure aggregation as a workflow around any strategy (replaces plain collection when
 * `defenses.secureAggregation` is set): send the strategy's round plan, run the protocol over the
 * hub's websockets, return each client's masked vector (as the server reads it: dequantised noise,
 * view "masked") and the unmasked mean (view "aggregate", target "aggregate") as the round's views,
 * and record threshold, survivors, drop-outs, clipped values and — a separate evaluation step over
 * the evaluation channel — the unmasked sum's error. The strategy then steps by the revealed mean.
 */
import '../../shared/wire/secagg';
import type { SecureAggregationRecord } from '../report/results';
import type { SecureAggregationConfig } from '../scenario/schema';
import { dequantizeSum } from '../../shared/secagg/quantize';
import { Rng } from '../../shared/random';
import type { ObservedUpdate } from '../../shared/contract';
import { updateKindFor } from '../../shared/training';
import type { CollectResult, CollectStage, StageContext } from '../coordinator/stage';
import { fetchPlainInputs } from './plain-inputs';
import { runSecureAggregationRound, type SecAggTransport } from './round';
import { SECAGG_CLIENT_TYPES } from '../../shared/wire/secagg';
import type { ClientHub } from '../coordinator/hub';
import type { ErrorMessage } from '../../shared/wire';

export interface SecureAggregationStageOptions {
  config: SecureAggregationConfig;
  seed: number;
  /** Record which clients' examples make up each round's aggregate (for scoring the aggregate view). */
  onAggregate?: (round: number, clients: string[]) => void;
}

/** The hub as a secure-aggregation transport: routes the five client message types, reports disconnects. */
export function hubTransport(hub: ClientHub): SecAggTransport {
  return {
    send: (clientId, message) => hub.send(clientId, message) > 0,
    onMessage: (handler) => {
      const offs = SECAGG_CLIENT_TYPES.map((type) => hub.handle(type, (clientId, msg) => handler(clientId, msg)));
      return () => offs.forEach((off) => off());
    },
    onDisconnect: (handler) => {
      // A client that could not act on round.start (its guard refused the model, say) will not
      // advertise keys: it counts as dropped now, as in the plain stage, not at the stage deadline.
      const onError = (clientId: string, err: ErrorMessage) => {
        if (err.ref === 'round.start') handler(clientId, `it could not take part: ${err.code}: ${err.message}`);
      };
      hub.on('disconnected', handler);
      hub.on('client-error', onError);
      return () => {
        hub.off('disconnected', handler);
        hub.off('client-error', onError);
      };
    },
  };
}

/** How far the unmasked sum is from the plain sum of the same inputs (evaluation channel only). */
async function unmaskingError(
  ctx: StageContext,
  survivors: readonly string[],
  aggregate: Float32Array,
  timeoutMs: number,
): Promise<number> {
  const plain = await fetchPlainInputs(ctx.hub, ctx.round, [...survivors], timeoutMs);
  if (plain.size !== survivors.length) {
    ctx.log(
      `server: round ${ctx.round}: only ${plain.size} of ${survivors.length} plain inputs came back on the evaluation channel; maxAbsError not computed`,
    );
    return Number.NaN;
  }
  let worst = 0;
  for (let i = 0; i < aggregate.length; i++) {
    let s = 0;
    for (const id of survivors) s += plain.get(id)![i]!;
    worst = Math.max(worst, Math.abs(s - aggregate[i]!));
  }
  return worst;
}

export function secureAggregationStage(options: SecureAggregationStageOptions): CollectStage {
  return async (ctx: StageContext): Promise<CollectResult> => {
    const { hub, round, selected, federation: f } = ctx;
    const cfg = options.config;
    const training = ctx.plan.payload.training;
    const kind = updateKindFor(training.algorithm);
    // The strategy's round.start, as in the plain stage; the update then stays with the client.
    for (const { clientId, message } of ctx.plan.instructions) hub.send(clientId, message);
    const params = {
      round,
      participants: selected,
      threshold: cfg.threshold,
      neighbours: cfg.neighbours,
      graphSeed: new Rng(options.seed).fork(`secagg/graph/round-${round}`).nextUint32(),
      vectorLength: ctx.paramCount,
      clippingRange: cfg.clippingRange,
      quantizationRange: cfg.quantizationRange,
    };
    const result = await runSecureAggregationRound(hubTransport(hub), params, {
      stageTimeoutMs: cfg.stageTimeoutMs,
      // Clients train between round.start and their AdvertiseKeys answer: the first stage gets the round's time.
      firstStageTimeoutMs: f.roundTimeoutMs + cfg.stageTimeoutMs,
      // The sender gets an `error` (and the log a line); the round carries on without that message.
      onRejection: (from, reason) => hub.reject(from, /is for round \d+/.test(reason) ? 'wrong-round' : 'bad-message', reason),
    });

    const numExamples = new Map<string, number>(result.numExamples);
    // What the honest-but-curious server holds: each masked vector, read as if it were an update.
    const views: ObservedUpdate[] = [];
    for (const [clientId, words] of cfg.views.includes('masked') ? result.masked : []) {
      const n = numExamples.get(clientId) ?? training.batchSize;
      views.push({
        round,
        sender: clientId,
        kind,
        numExamples: n,
        update: dequantizeSum(words, 1, cfg),
        view: 'masked',
        bytes: words.byteLength,
      });
    }

    const record: SecureAggregationRecord = {
      threshold: result.threshold,
      survivors: result.survivors,
      dropped: result.dropped,
      maxAbsError: 0,
      clippedValues: result.clippedValues,
    };
    if (result.status === 'aborted' || !result.aggregate) {
      record.aborted = result.reason ?? 'aborted';
      ctx.log(`server: round ${round}: secure aggregation aborted: ${record.aborted}`);
      return { updates: [], dropped: [...selected], views, secureAggregation: record };
    }

    const m = result.survivors.length;
    const mean = new Float32Array(result.aggregate.length);
    for (let i = 0; i < mean.length; i++) mean[i] = result.aggregate[i]! / m;
    const total = result.survivors.reduce((s, id) => s + (numExamples.get(id) ?? training.batchSize), 0);
    options.onAggregate?.(round, result.survivors);
    if (cfg.views.includes('aggregate')) {
      views.push({
        round,
        sender: 'aggregate',
        kind,
        numExamples: total,
        update: mean,
        view: 'aggregate',
        bytes: 0,
        contributors: [...result.survivors],
      });
    }
    record.maxAbsError = await unmaskingError(ctx, result.survivors, result.aggregate, cfg.stageTimeoutMs);
    return { updates: [], dropped: result.dropped, aggregate: { mean, clients: result.survivors }, views, secureAggregation: record };
  };
}
