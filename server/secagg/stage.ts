/**
 * The secure-aggregation collect stage of the coordinator (replaces plain collection when
 * `defenses.secureAggregation` is set): broadcast `round.start`, run the protocol over the hub's
 * websockets, hand the observer each client's masked vector (as the server reads it: dequantised
 * noise, view "masked") and the unmasked mean (view "aggregate", target "aggregate"), and record
 * threshold, survivors, drop-outs, clipped values and the unmasked sum's error (evaluation channel).
 */
import '../../shared/wire/secagg';
import type { SecureAggregationRecord } from '../report/results';
import type { SecureAggregationConfig } from '../scenario/schema';
import { dequantizeSum } from '../../shared/secagg/quantize';
import { Rng } from '../../shared/random';
import type { CollectResult, CollectStage, StageContext } from '../coordinator/stage';
import { fetchPlainInputs } from './plain-inputs';
import { runSecureAggregationRound, type SecAggTransport } from './round';
import { SECAGG_CLIENT_TYPES } from '../../shared/wire/secagg';
import type { ClientHub } from '../coordinator/hub';

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
      hub.on('disconnected', handler);
      return () => hub.off('disconnected', handler);
    },
  };
}

export function secureAggregationStage(options: SecureAggregationStageOptions): CollectStage {
  return async (ctx: StageContext): Promise<CollectResult> => {
    const { hub, round, selected, federation: f } = ctx;
    const cfg = options.config;
    const kind = f.algorithm === 'fedsgd' ? 'gradient' : 'weight-delta';
    // round.start is the message the plain stage sends; the update then stays with the client.
    for (const id of selected) {
      hub.send(id, {
        type: 'round.start',
        round,
        algorithm: f.algorithm,
        learningRate: f.learningRate,
        batchSize: f.batchSize,
        localSteps: f.localSteps,
        localEpochs: f.localEpochs,
        timeoutMs: f.roundTimeoutMs,
        params: ctx.globalParams,
      });
    }
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

    const numExamples = new Map<string, number>();
    for (const [id, n] of result.numExamples) numExamples.set(id, n);
    // What the honest-but-curious server holds: each masked vector, read as if it were an update.
    for (const [clientId, words] of cfg.views.includes('masked') ? result.masked : []) {
      ctx.observe({
        round,
        clientId,
        update: dequantizeSum(words, 1, cfg),
        updateKind: kind,
        numExamples: numExamples.get(clientId) ?? f.batchSize,
        globalParams: ctx.globalParams,
        view: 'masked',
        frameBytes: words.byteLength,
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
      return { updates: [], dropped: [...selected], secureAggregation: record };
    }

    const m = result.survivors.length;
    const mean = new Float32Array(result.aggregate.length);
    for (let i = 0; i < mean.length; i++) mean[i] = result.aggregate[i]! / m;
    const total = result.survivors.reduce((s, id) => s + (numExamples.get(id) ?? f.batchSize), 0);
    options.onAggregate?.(round, result.survivors);
    if (cfg.views.includes('aggregate')) ctx.observe({ round, clientId: 'aggregate', update: mean, updateKind: kind, numExamples: total, globalParams: ctx.globalParams, view: 'aggregate', frameBytes: 0 });

    // Evaluation channel only: how far is the unmasked sum from the plain sum of the same inputs?
    const plain = await fetchPlainInputs(hub, round, result.survivors, cfg.stageTimeoutMs);
    if (plain.size === m) {
      let worst = 0;
      for (let i = 0; i < result.aggregate.length; i++) {
        let s = 0;
        for (const id of result.survivors) s += plain.get(id)![i]!;
        worst = Math.max(worst, Math.abs(s - result.aggregate[i]!));
      }
      record.maxAbsError = worst;
    } else {
      record.maxAbsError = Number.NaN;
      ctx.log(`server: round ${round}: only ${plain.size} of ${m} plain inputs came back on the evaluation channel; maxAbsError not computed`);
    }
    return { updates: [], dropped: result.dropped, aggregate: { mean, clients: result.survivors }, secureAggregation: record };
  };
}
