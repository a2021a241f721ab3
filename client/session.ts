/**
 * One virtual client: one websocket connection authenticated by one token. It rebuilds its data
 * shard from the public scenario in `welcome`, builds the model from the definition the server sent
 * (`welcome.model`), answers each `round.start` with its update, and answers the simulator's
 * evaluation channel (`eval.truth-request`) from the batches it used. A model it cannot accept is
 * refused with `error` 'bad-model'; the client then stays connected but takes part in no round.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeMessage, WireError, type WireMessage, type RoundStart, type Welcome } from '../shared/wire';
import { validatePublicScenario, type PublicScenario } from '../shared/scenario/public';
import { paramCount, type Model } from '../shared/models';
import { modelFromWelcome } from './model';
import { clientShard } from '../shared/data';
import type { Dataset } from '../shared/data/types';
import { subset } from '../shared/data/types';
import { chainMods, defenseMods, finiteGuard, type Next } from './mods';
import { secAggMod } from './secagg/mod';
import { Rng } from '../shared/random';
import { computeUpdate } from './train';
import { distinctInOrder, roundBatches } from './schedule';
import { ClientSecAgg } from './secagg/session';
import { refuseEvaluation } from './evaluation-guard';

export interface SessionEnd {
  clientId: string | null;
  /** True when the server said `shutdown` (the normal end of a run). */
  clean: boolean;
  reason: string;
}

interface ClientState {
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
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** allowEvaluation: answer the simulator's evaluation requests (client/evaluation-guard.ts); default refuse. */
export function runSession(url: string, token: string, log: (line: string) => void, verbose: boolean, allowEvaluation = false): Promise<SessionEnd> {
  return new Promise((resolve) => {
    let state: ClientState | null = null;
    /** Set when this client refused the server's model: it stays connected but cannot train. */
    let refused: { clientId: string; why: string } | null = null;
    let clean = false;
    let reason = '';
    const ws = new WebSocket(url, { maxPayload: 0 });
    const name = () => state?.welcome.clientId ?? refused?.clientId ?? 'client';
    const send = (msg: WireMessage) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
    };

    const onWelcome = (w: Welcome) => {
      const scenario = validatePublicScenario(w.scenario, 'from the server (welcome.scenario)');
      const shard = clientShard(scenario.data, scenario.federation.clients, w.clientIndex, scenario.seed);
      let model: Model;
      try {
        model = modelFromWelcome(w, scenario.model, shard);
      } catch (err) {
        refused = { clientId: w.clientId, why: errorText(err) };
        throw err;
      }
      const count = paramCount(model.specs);
      const sa = scenario.defenses.secureAggregation;
      const secagg = sa ? new ClientSecAgg({ clientId: w.clientId, config: sa, send, disconnect: (why) => ws.close(1000, why), log }) : null;
      // The mod chain: the defences in defenses.order, the finite check, then secure aggregation
      // (which masks the update and keeps it for its protocol) or the plain `update` message.
      const secaggRng = (round: number) => new Rng(scenario.seed).fork(`secagg/client-${w.clientIndex}/round-${round}`);
      const sendPlain: Next = (u) => send({ type: 'update', round: u.round, kind: u.kind, numExamples: u.numExamples, update: u.values });
      const mods = [...defenseMods(scenario.defenses), finiteGuard, ...(secagg ? [secAggMod(secagg, secaggRng)] : [])];
      state = { welcome: w, scenario, model, shard, truth: new Map(), secagg, send: chainMods(mods, sendPlain) };
      send({ type: 'ready' });
      if (verbose) log(`${w.clientId}: connected, ${shard.labels.length} training examples, model ${model.name} (${count} parameters)`);
    };

    const onRound = (s: ClientState, r: RoundStart) => {
      if (r.params.length !== s.welcome.paramCount) {
        throw new WireError('wrong-length', `round.start.params: ${r.params.length} values, the model has ${s.welcome.paramCount}`);
      }
      const batches = roundBatches(s.shard.labels.length, r, s.scenario.seed, s.welcome.clientIndex, r.round);
      const raw = computeUpdate(s.model, r.params, s.shard, batches, r.algorithm, r.learningRate, s.scenario.federation.weightDecay);
      const used = distinctInOrder(batches);
      const rng = new Rng(s.scenario.seed).fork(`defenses/client-${s.welcome.clientIndex}/round-${r.round}`);
      s.send({ round: r.round, kind: r.algorithm === 'fedsgd' ? 'gradient' : 'weight-delta', numExamples: used.length, values: raw }, { rng, specs: s.model.specs, report: {} });
      // Only once the update has gone out (a non-finite one throws above): the truth of a round we took part in.
      s.truth.set(r.round, used);
    };

    const onMessage = (msg: WireMessage) => {
      if (refuseEvaluation(msg, allowEvaluation, { clientName: name(), send, log })) return;
      switch (msg.type) {
        case 'welcome':
          if (state || refused) throw new WireError('bad-message', 'a second welcome on the same connection');
          onWelcome(msg);
          return;
        case 'round.start':
          if (refused) throw new WireError('bad-model', `cannot train: the model in welcome was refused: ${refused.why}`);
          if (!state) throw new WireError('bad-message', 'round.start before welcome');
          onRound(state, msg);
          return;
        case 'eval.truth-request': {
          if (!state) throw new WireError('bad-message', 'eval.truth-request before welcome');
          const used = state.truth.get(msg.round);
          if (!used) {
            send({ type: 'error', code: 'unavailable', message: `${state.welcome.clientId} sent no update in round ${msg.round}`, ref: msg.type, requestId: msg.requestId });
            return;
          }
          const t = subset(state.shard, used);
          send({ type: 'eval.truth', requestId: msg.requestId, round: msg.round, count: used.length, shape: t.shape, images: t.images, labels: t.labels });
          return;
        }
        case 'update.accepted':
          return;
        case 'shutdown':
          clean = true;
          reason = msg.reason || 'server shut down';
          ws.close(1000, 'bye');
          return;
        case 'error':
          log(`${name()}: server error ${msg.code}${msg.ref ? ` (about ${msg.ref})` : ''}: ${msg.message}`);
          if (msg.code === 'unauthorized') reason = `refused by the server: ${msg.message}`;
          return;
        default:
          if (state?.secagg?.handle(msg)) return;
          throw new WireError('unknown-type', `message type ${msg.type} is not expected by a client`);
      }
    };

    ws.on('open', () => send({ type: 'hello', token, agent: `fedleak-client/${process.pid}` }));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      let msg: WireMessage | null = null;
      try {
        if (!isBinary) throw new WireError('bad-frame', 'text frame; the protocol uses binary frames only');
        msg = decodeFrame(data, 'client');
        onMessage(msg);
      } catch (err) {
        const code = err instanceof WireError ? err.code : 'internal';
        // ref names the message we could not act on; for round.start the server drops us from that round.
        const ref = msg ? { ref: msg.type } : {};
        log(`${name()}: ${msg ? `could not act on ${msg.type}` : 'rejected a server message'}: ${code}: ${errorText(err)}`);
        send({ type: 'error', code, message: errorText(err), ...ref });
        // Without a usable welcome this client cannot take part; give up rather than hang. A refused
        // model is different: the server learns why and decides (it ends the run with shutdown).
        if (!state && !refused) {
          reason = `cannot start: ${errorText(err)}`;
          ws.close(1008, 'bad welcome');
        }
      }
    });
    ws.on('error', (err) => {
      reason ||= errorText(err);
    });
    ws.on('close', (code, why) => {
      if (!clean && !reason) reason = `connection closed (${code}${why.length ? ` ${why.toString()}` : ''})`;
      if (refused) reason = `refused the server's model: ${refused.why}`;
      resolve({ clientId: state?.welcome.clientId ?? refused?.clientId ?? null, clean: clean && !refused, reason });
    });
  });
}
