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

/** The connection's state and handlers; resolves `done` once, when the connection closes. */
class ClientSession {
  private state: Participant | null = null;
  /** Set when this client refused the server's model (bad-model, or a guard): it stays connected but cannot train. */
  private refused: Refused | null = null;
  private clean = false;
  private reason = '';
  private readonly ws: WebSocket;

  constructor(
    url: string,
    private readonly token: string,
    private readonly log: (line: string) => void,
    private readonly verbose: boolean,
    private readonly options: SessionOptions,
    private readonly allowEvaluation: boolean,
    private readonly done: (end: SessionEnd) => void,
  ) {
    this.ws = new WebSocket(url, { maxPayload: 0 });
    this.ws.on('open', () => this.send({ type: 'hello', token: this.token, agent: `fedleak-client/${process.pid}` }));
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    this.ws.on('error', (err) => {
      this.reason ||= errorText(err);
    });
    this.ws.on('close', (code, why) => this.onClose(code, why));
  }

  private name(): string {
    return this.state?.welcome.clientId ?? this.refused?.clientId ?? 'client';
  }

  private readonly send = (msg: WireMessage): void => {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(msg));
  };

  private onWelcome(w: Welcome): void {
    const io: ParticipantIo = { send: this.send, disconnect: (why) => this.ws.close(1000, why), log: this.log };
    this.state = acceptWelcome(w, this.options, io, (r) => (this.refused = r));
    const state = this.state;
    if (!state) return;
    this.send({ type: 'ready' });
    if (this.verbose)
      this.log(
        `${w.clientId}: connected, ${state.shard.labels.length} training examples${this.options.own ? ` (own data ${this.options.own.source})` : ''}, model ${state.model.name} (${paramCount(state.model.specs)} parameters)`,
      );
  }

  private onMessage(msg: WireMessage): void {
    const enableWith = this.options.own ? '--share-truth' : '--allow-evaluation';
    if (refuseEvaluation(msg, this.allowEvaluation, { clientName: this.name(), send: this.send, log: this.log, enableWith })) return;
    switch (msg.type) {
      case 'welcome':
        if (this.state || this.refused) throw new WireError('bad-message', 'a second welcome on the same connection');
        this.onWelcome(msg);
        return;
      case 'round.start':
        if (this.refused?.guard) throw refusalError(this.refused.guard);
        if (this.refused) throw new WireError('bad-model', `cannot train: the model in welcome was refused: ${this.refused.why}`);
        if (!this.state) throw new WireError('bad-message', 'round.start before welcome');
        playRound(this.state, msg);
        return;
      case 'eval.truth-request':
        if (!this.state) throw new WireError('bad-message', 'eval.truth-request before welcome');
        this.send(truthAnswer(this.state, msg));
        return;
      case 'update.accepted':
        return;
      case 'shutdown':
        this.clean = true;
        this.reason = msg.reason || 'server shut down';
        this.ws.close(1000, 'bye');
        return;
      case 'error':
        this.log(`${this.name()}: server error ${msg.code}${msg.ref ? ` (about ${msg.ref})` : ''}: ${msg.message}`);
        if (msg.code === 'unauthorized') this.reason = `refused by the server: ${msg.message}`;
        return;
      default:
        // A client that refused the model sits secure aggregation out too (the server already dropped it).
        if (this.state?.secagg?.handle(msg) || (this.refused && msg.type.startsWith('secagg.'))) return;
        throw new WireError('unknown-type', `message type ${msg.type} is not expected by a client`);
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    let msg: WireMessage | null = null;
    try {
      if (!isBinary) throw new WireError('bad-frame', 'text frame; the protocol uses binary frames only');
      msg = decodeFrame(data, 'client');
      this.onMessage(msg);
    } catch (err) {
      const code = err instanceof WireError ? err.code : 'internal';
      // ref names the message we could not act on; for round.start the server drops us from that round.
      const ref = msg ? { ref: msg.type } : {};
      this.log(`${this.name()}: ${msg ? `could not act on ${msg.type}` : 'rejected a server message'}: ${code}: ${errorText(err)}`);
      this.send({ type: 'error', code, message: errorText(err), ...ref });
      // Without a usable welcome this client cannot take part; give up rather than hang. A refused
      // model is different: the server learns why and decides (it ends the run with shutdown).
      if (!this.state && !this.refused) {
        this.reason = `cannot start: ${errorText(err)}`;
        this.ws.close(1008, 'bad welcome');
      }
    }
  }

  private onClose(code: number, why: Buffer): void {
    if (!this.clean && !this.reason) this.reason = `connection closed (${code}${why.length ? ` ${why.toString()}` : ''})`;
    if (this.refused) this.reason = `refused the server's model: ${this.refused.why}`;
    // A guard's refusal is the client doing its job: a clean end when the server shut down.
    this.done({
      clientId: this.state?.welcome.clientId ?? this.refused?.clientId ?? null,
      clean: this.clean && (!this.refused || this.refused.guard !== undefined),
      reason: this.reason,
    });
  }
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
    new ClientSession(url, token, log, verbose, options, allowEvaluation, resolve);
  });
}
