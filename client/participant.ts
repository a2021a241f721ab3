/**
 * What one virtual client knows and does once welcomed: its shard, the model the server defined,
 * its mod chain, and the answers to `round.start` and `eval.truth-request`. The connection itself
 * (client/session.ts) only routes messages here.
 */
import { WireError, type EvalTruthRequest, type RoundStart, type Welcome, type WireMessage } from '../shared/wire';
import { validatePublicScenario, type PublicScenario } from '../shared/scenario/public';
import type { Model } from '../shared/models';
import { clientShard } from '../shared/data';
import { subset, type Dataset } from '../shared/data/types';
import { Rng } from '../shared/random';
import { updateKindFor } from '../shared/training';
import { modelFromWelcome } from './model';
import type { GuardConfig } from '../shared/guards';
import { refusalError, roundRefusal, updateRefusal } from './guards';
import { chainMods, defenseMods, finiteGuard, type Next } from './mods';
import { secAggMod } from './secagg/mod';
import { ClientSecAgg } from './secagg/session';
import { computeUpdate, dropoutSeed } from './train';
import { distinctInOrder, roundBatches } from './schedule';
import { checkDataLocation, type OwnData } from './local-data';

export interface ParticipantIo {
  send: (msg: WireMessage) => void;
  /** Closes the connection (a simulated drop-out). */
  disconnect: (why: string) => void;
  log: (line: string) => void;
}

export interface Participant {
  welcome: Welcome;
  scenario: PublicScenario;
  model: Model;
  shard: Dataset;
  /** round → distinct shard indices used, in order of first use. */
  truth: Map<number, number[]>;
  /** Secure aggregation (defenses.secureAggregation): answers the server's secagg.* requests. */
  secagg: ClientSecAgg | null;
  /** The update's way out: the mod chain ending in the plain `update` message. */
  send: Next;
  /** Data this client holds itself (--data); absent when the shard comes from the scenario. */
  own?: OwnData;
  /** The client's own guards (client/guards), checked on each round's parameters. */
  guards?: GuardConfig;
}

/**
 * Builds the client from `welcome`; throws a WireError ('bad-model' when it refuses the model). The
 * mod chain: the defences in defenses.order, the finite check, then secure aggregation (which masks
 * the update and keeps it for its protocol) or the plain `update` message.
 */
/** `extras.own`: data this client holds itself (--data); `extras.guards`: its checks of the server's model. */
export function prepareParticipant(w: Welcome, io: ParticipantIo, extras: { own?: OwnData; guards?: GuardConfig } = {}): Participant {
  const { own, guards } = extras;
  const scenario = validatePublicScenario(w.scenario, 'from the server (welcome.scenario)');
  checkDataLocation(scenario.data.location ?? 'server', own);
  const shard = own?.dataset ?? clientShard(scenario.data, scenario.federation.clients, w.clientIndex, scenario.seed);
  const model = modelFromWelcome(w, scenario.model, shard);
  const sa = scenario.defenses.secureAggregation;
  const secagg = sa ? new ClientSecAgg({ clientId: w.clientId, config: sa, send: io.send, disconnect: io.disconnect, log: io.log }) : null;
  const secaggRng = (round: number) => new Rng(scenario.seed).fork(`secagg/client-${w.clientIndex}/round-${round}`);
  const sendPlain: Next = (u) => io.send({ type: 'update', round: u.round, kind: u.kind, numExamples: u.numExamples, update: u.values });
  const mods = [...defenseMods(scenario.defenses), finiteGuard, ...(secagg ? [secAggMod(secagg, secaggRng)] : [])];
  return {
    welcome: w,
    scenario,
    model,
    shard,
    truth: new Map(),
    secagg,
    send: chainMods(mods, sendPlain),
    ...(own ? { own } : {}),
    ...(guards ? { guards } : {}),
  };
}

/** Trains on this round's batches and sends the update through the mod chain. */
export function playRound(p: Participant, r: RoundStart): void {
  if (r.params.length !== p.welcome.paramCount) {
    throw new WireError('wrong-length', `round.start.params: ${r.params.length} values, the model has ${p.welcome.paramCount}`);
  }
  const refusal = roundRefusal(p.guards, p.model.specs, r.params);
  if (refusal) throw refusalError(refusal);
  const batches = roundBatches(p.shard.labels.length, r, p.scenario.seed, p.welcome.clientIndex, r.round);
  const raw = computeUpdate(p.model, r.params, p.shard, batches, r.algorithm, r.learningRate, {
    weightDecay: p.scenario.federation.weightDecay,
    dropoutSeed: dropoutSeed(p.scenario.seed, p.welcome.clientIndex, r.round),
  });
  const used = distinctInOrder(batches);
  // Examples are read only when leakage-gate is on (subset copies them).
  const leak = p.guards?.guards.includes('leakage-gate')
    ? updateRefusal(p.guards, p.model.specs, raw, { images: subset(p.shard, used).images, count: used.length, shape: p.shard.shape })
    : null;
  if (leak) throw refusalError(leak);
  const rng = new Rng(p.scenario.seed).fork(`defenses/client-${p.welcome.clientIndex}/round-${r.round}`);
  p.send(
    { round: r.round, kind: updateKindFor(r.algorithm), numExamples: used.length, values: raw },
    { rng, specs: p.model.specs, report: {} },
  );
  // Only once the update has gone out (a non-finite one throws above): the truth of a round we took part in.
  p.truth.set(r.round, used);
}

/** SIMULATOR ONLY: the examples behind this client's update of a round, or `unavailable`. */
export function truthAnswer(p: Participant, msg: EvalTruthRequest): WireMessage {
  // Client-held data stays private unless the client was started with --share-truth.
  if (p.own && !p.own.shareTruth) {
    const message = `${p.welcome.clientId} holds its own data and does not share it (start it with --share-truth to allow)`;
    return { type: 'error', code: 'unavailable', message, ref: msg.type, requestId: msg.requestId };
  }
  const used = p.truth.get(msg.round);
  if (!used)
    return {
      type: 'error',
      code: 'unavailable',
      message: `${p.welcome.clientId} sent no update in round ${msg.round}`,
      ref: msg.type,
      requestId: msg.requestId,
    };
  const t = subset(p.shard, used);
  return {
    type: 'eval.truth',
    requestId: msg.requestId,
    round: msg.round,
    count: used.length,
    shape: t.shape,
    images: t.images,
    labels: t.labels,
  };
}
