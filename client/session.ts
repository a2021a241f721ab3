/**
 * One virtual client: one websocket connection authenticated by one token. It rebuilds its data
 * shard from the public scenario in `welcome`, builds the model from the definition the server sent
 * (`welcome.model`), answers each `round.start` with its update, and answers the simulator's
 * evaluation channel (`eval.truth-request`) from the batches it used. A model it cannot accept is
 * refused with `error` 'bad-model'; the client then stays connected but takes part in no round.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeMessage, WireError, type WireMessage, type Welcome } from '../shared/wire';
import { paramCount } from '../shared/models';
import { playRound, prepareParticipant, truthAnswer, type Participant, type ParticipantIo } from './participant';
import { refuseEvaluation } from './evaluation-guard';
import type { OwnData } from './local-data';
import type { GuardConfig } from '../shared/guards';
import { refusalError, welcomeRefusal, type GuardRefusal } from './guards';

export interface SessionEnd {
  clientId: string | null;
  /** True when the server said `shutdown` (the normal end of a run). */
  clean: boolean;
  reason: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Refused {
  clientId: string;
  why: string;
  /** Set when one of the client's guards refused (then every round.start gets 'guard-refused'). */
  guard?: GuardRefusal;
}

/** pin-model on the welcomed definition: a refusal is logged and the client still says ready. */
function refuseByGuard(
  w: Welcome,
  guards: GuardConfig | undefined,
  log: (line: string) => void,
  send: (msg: WireMessage) => void,
): Refused | null {
  const guard = welcomeRefusal(w.model, guards);
  if (!guard) return null;
  log(`${w.clientId}: ${guard.guard}: refused the server's model: ${guard.reason}; this client sits every round out`);
  send({ type: 'ready' });
  return { clientId: w.clientId, why: `${guard.guard}: ${guard.reason}`, guard };
}

/**
 * The participant built from `welcome`, or null when a guard refused its model first (the client
 * still says ready). A model the client cannot build is a thrown WireError 'bad-model'; both report `refused`.
 */
function acceptWelcome(w: Welcome, options: SessionOptions, io: ParticipantIo, onRefused: (r: Refused) => void): Participant | null {
  const { guards, own } = options;
  const byGuard = refuseByGuard(w, guards, io.log, io.send);
  if (byGuard) {
    onRefused(byGuard);
    return null;
  }
  try {
    return prepareParticipant(w, io, { ...(own ? { own } : {}), ...(guards ? { guards } : {}) });
  } catch (err) {
    if (err instanceof WireError && err.code === 'bad-model') onRefused({ clientId: w.clientId, why: errorText(err) });
    throw err;
  }
}

export interface SessionOptions {
  /** Answer the simulator's evaluation requests (client/evaluation-guard.ts); default refuse. */
  allowEvaluation?: boolean;
  /** Data this client holds itself (--data), used instead of the scenario's shard; its owner may share truth. */
  own?: OwnData;
  /** The client's own checks of the server's model (client/guards); a refusal sits rounds out. */
  guards?: GuardConfig;
}

export function runSession(
  url: string,
  token: string,
  log: (line: string) => void,
  verbose: boolean,
  options: SessionOptions = {},
): Promise<SessionEnd> {
  const allowEvaluation = (options.allowEvaluation ?? false) || (options.own?.shareTruth ?? false);
  return new Promise((resolve) => {
    let state: Participant | null = null;
    /** Set when this client refused the server's model (bad-model, or a guard): it stays connected but cannot train. */
    let refused: Refused | null = null;
    let clean = false;
    let reason = '';
    const ws = new WebSocket(url, { maxPayload: 0 });
    const name = () => state?.welcome.clientId ?? refused?.clientId ?? 'client';
    const send = (msg: WireMessage) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
    };

    const onWelcome = (w: Welcome) => {
      state = acceptWelcome(w, options, { send, disconnect: (why) => ws.close(1000, why), log }, (r) => (refused = r));
      if (!state) return;
      send({ type: 'ready' });
      if (verbose)
        log(
          `${w.clientId}: connected, ${state.shard.labels.length} training examples${options.own ? ` (own data ${options.own.source})` : ''}, model ${state.model.name} (${paramCount(state.model.specs)} parameters)`,
        );
    };

    const onMessage = (msg: WireMessage) => {
      if (refuseEvaluation(msg, allowEvaluation, { clientName: name(), send, log })) return;
      switch (msg.type) {
        case 'welcome':
          if (state || refused) throw new WireError('bad-message', 'a second welcome on the same connection');
          onWelcome(msg);
          return;
        case 'round.start':
          if (refused?.guard) throw refusalError(refused.guard);
          if (refused) throw new WireError('bad-model', `cannot train: the model in welcome was refused: ${refused.why}`);
          if (!state) throw new WireError('bad-message', 'round.start before welcome');
          playRound(state, msg);
          return;
        case 'eval.truth-request':
          if (!state) throw new WireError('bad-message', 'eval.truth-request before welcome');
          send(truthAnswer(state, msg));
          return;
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
          // A client that refused the model sits secure aggregation out too (the server already dropped it).
          if (state?.secagg?.handle(msg) || (refused && msg.type.startsWith('secagg.'))) return;
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
      // A guard's refusal is the client doing its job: a clean end when the server shut down.
      resolve({
        clientId: state?.welcome.clientId ?? refused?.clientId ?? null,
        clean: clean && (!refused || refused.guard !== undefined),
        reason,
      });
    });
  });
}
