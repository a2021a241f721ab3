/**
 * A federation client that runs in a web page: the same wire protocol (shared/wire, msgpackr),
 * the same model (welcome.model through modelFromWelcome) and the same local training
 * (client/train.ts) as a client process, over the browser's own WebSocket. Its data is one example
 * the page hands it (a drawn digit). The page that starts it says the evaluation channel is on:
 * the run that reserved this slot is a simulation, and it scores the attack against this example.
 */
import { decodeFrame, encodeMessage, WireError, type WireMessage, type Welcome, type RoundStart } from '../../shared/wire';
import { validatePublicScenario } from '../../shared/scenario/public';
import type { Dataset } from '../../shared/data/types';
import { Rng } from '../../shared/random';
import { modelFromWelcome } from '../model';
import { computeUpdate, dropoutSeed } from '../train';
import { chainMods, defenseMods, finiteGuard, type Next } from '../mods';
import type { Model } from '../../shared/models';

/** The browser's WebSocket, as far as this client uses it (kept structural: no DOM types here). */
export interface BrowserSocket {
  binaryType: string;
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // `never` parameters: the DOM's handlers take Event subtypes this client reads structurally.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
}

export interface BrowserClientOptions {
  socket: BrowserSocket;
  token: string;
  /** The one training example: 28×28 grey in [0, 1], row-major. */
  example: { images: Float32Array; label: number; shape: [number, number, number] };
  numClasses: number;
  /** Answer the simulator's eval.truth-request (the run spawned this slot for a simulation). */
  allowEvaluation: boolean;
  log: (line: string) => void;
  onWelcome?: (clientId: string) => void;
  onUpdateSent?: (round: number) => void;
}

export interface BrowserClientEnd {
  clientId: string | null;
  clean: boolean;
  reason: string;
}

interface Joined {
  welcome: Welcome;
  model: Model;
  shard: Dataset;
  seed: number;
  send: Next;
  rounds: Set<number>;
}

const OPEN = 1;

/** What the connection keeps between messages. */
interface Connection {
  o: BrowserClientOptions;
  shard: Dataset;
  send: (msg: WireMessage) => void;
  close: (code: number, why: string) => void;
  joined: Joined | null;
  clean: boolean;
  reason: string;
}

function onWelcome(c: Connection, w: Welcome): void {
  if (c.joined) throw new WireError('bad-message', 'a second welcome on the same connection');
  const scenario = validatePublicScenario(w.scenario, 'from the server (welcome.scenario)');
  const model = modelFromWelcome(w, scenario.model, c.shard);
  const sendPlain: Next = (u) => c.send({ type: 'update', round: u.round, kind: u.kind, numExamples: u.numExamples, update: u.values });
  const send = chainMods([...defenseMods(scenario.defenses), finiteGuard], sendPlain);
  c.joined = { welcome: w, model, shard: c.shard, seed: scenario.seed, send, rounds: new Set() };
  c.send({ type: 'ready' });
  c.o.onWelcome?.(w.clientId);
}

function onRoundStart(c: Connection, msg: RoundStart): void {
  const j = c.joined;
  if (!j) throw new WireError('bad-message', 'round.start before welcome');
  // One example: every batch of every local step is that example.
  const batches = Array.from({ length: msg.algorithm === 'fedsgd' ? 1 : msg.localSteps }, () => [0]);
  const values = computeUpdate(j.model, msg.params, j.shard, batches, msg.algorithm, msg.learningRate, {
    dropoutSeed: dropoutSeed(j.seed, j.welcome.clientIndex, msg.round),
  });
  const rng = new Rng(j.seed).fork(`defenses/client-${j.welcome.clientIndex}/round-${msg.round}`);
  const kind = msg.algorithm === 'fedsgd' ? 'gradient' : 'weight-delta';
  j.send({ round: msg.round, kind, numExamples: 1, values }, { rng, specs: j.model.specs, report: {} });
  j.rounds.add(msg.round);
  c.o.onUpdateSent?.(msg.round);
}

function onMessage(c: Connection, msg: WireMessage): void {
  switch (msg.type) {
    case 'welcome':
      return onWelcome(c, msg);
    case 'round.start':
      return onRoundStart(c, msg);
    case 'eval.truth-request': {
      if (!c.joined || !c.joined.rounds.has(msg.round) || !c.o.allowEvaluation) {
        c.send({
          type: 'error',
          code: 'unavailable',
          message: `no evaluation for round ${msg.round} from this browser client`,
          ref: msg.type,
          requestId: msg.requestId,
        });
        return;
      }
      const { shard } = c;
      c.send({
        type: 'eval.truth',
        requestId: msg.requestId,
        round: msg.round,
        count: 1,
        shape: shard.shape,
        images: shard.images,
        labels: shard.labels,
      });
      return;
    }
    case 'update.accepted':
      return;
    case 'shutdown':
      c.clean = true;
      c.reason = msg.reason || 'server shut down';
      c.close(1000, 'bye');
      return;
    case 'error':
      c.o.log(`server error ${msg.code}: ${msg.message}`);
      c.reason = `server error ${msg.code}: ${msg.message}`;
      return;
    default:
      throw new WireError('unknown-type', `message type ${msg.type} is not expected by a browser client`);
  }
}

export function runBrowserClient(o: BrowserClientOptions): Promise<BrowserClientEnd> {
  const shard: Dataset = {
    name: 'drawing',
    shape: o.example.shape,
    numClasses: o.numClasses,
    images: o.example.images,
    labels: Int32Array.from([o.example.label]),
  };
  const ws = o.socket;
  ws.binaryType = 'arraybuffer';
  const c: Connection = {
    o,
    shard,
    send: (msg) => {
      if (ws.readyState === OPEN) ws.send(encodeMessage(msg));
    },
    close: (code, why) => ws.close(code, why),
    joined: null,
    clean: false,
    reason: '',
  };
  return new Promise((resolve) => {
    ws.onopen = () => c.send({ type: 'hello', token: o.token, agent: 'fedleak-browser-client' });
    ws.onmessage = (event: { data: unknown }) => {
      let msg: WireMessage | null = null;
      try {
        if (!(event.data instanceof ArrayBuffer)) throw new WireError('bad-frame', 'text frame; the protocol uses binary frames only');
        msg = decodeFrame(new Uint8Array(event.data), 'client');
        onMessage(c, msg);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        o.log(`${msg ? `could not act on ${msg.type}` : 'rejected a server message'}: ${text}`);
        c.send({ type: 'error', code: err instanceof WireError ? err.code : 'internal', message: text, ...(msg ? { ref: msg.type } : {}) });
      }
    };
    ws.onclose = (event: { code: number; reason: string }) => {
      if (!c.clean && !c.reason) c.reason = `connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`;
      resolve({ clientId: c.joined?.welcome.clientId ?? null, clean: c.clean, reason: c.reason });
    };
  });
}
