/**
 * The messages of the fedleak wire protocol (docs/protocol.md). Every message is a msgpack map with
 * `v` (protocol version) and `type`; tensors are Float32Array / Int32Array here and msgpack `bin`
 * (raw little-endian bytes) on the wire.
 *
 * Adding a message type: declare its interface, add it to `MessageMap` (from another file by module
 * augmentation: `declare module './messages' { interface MessageMap { 'x.y': XY } }`), and call
 * `registerMessage` with a spec that decodes it from untrusted fields.
 */
import type { Fields } from './fields';
import { WireError } from './errors';
import type { UpdateKind } from '../contract';

export const UPDATE_KINDS = ['gradient', 'weight-delta'] as const satisfies readonly UpdateKind[];
/** The contract's UpdateKind (shared/contract.ts), as the wire spells it. */
export type WireUpdateKind = UpdateKind;

// ---- client → server -------------------------------------------------------------------------

/** First message on every connection: authenticate as one client. */
export interface Hello {
  type: 'hello';
  token: string;
  /** Free text naming the client software, for logs. */
  agent: string;
}

/** Sent once after `welcome`, when the client has built its data shard and model and can train. */
export interface Ready {
  type: 'ready';
}

/** The client's update for the open round. */
export interface Update {
  type: 'update';
  round: number;
  kind: WireUpdateKind;
  /** Examples behind the update (weight in aggregation). */
  numExamples: number;
  /** Flat float32, the model's parameter count, parameter order of docs/models.md. */
  update: Float32Array;
}

/**
 * SIMULATOR ONLY (evaluation channel): the exact examples a client used for its update in `round`,
 * in order, sent only in answer to `eval.truth-request`. A real deployment would never send this;
 * fedleak uses it to score reconstructions, and the attack code has no path to it.
 */
export interface EvalTruth {
  type: 'eval.truth';
  requestId: number;
  round: number;
  count: number;
  /** [height, width, channels]. */
  shape: [number, number, number];
  /** NHWC flat, count·h·w·c float32 in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
}

// ---- server → client -------------------------------------------------------------------------

export interface Welcome {
  type: 'welcome';
  clientId: string;
  /** 0-based index of the client among `federation.clients`; selects its data shard. */
  clientIndex: number;
  /** The resolved public scenario (JSON object): data, model, federation, defenses. */
  scenario: Record<string, unknown>;
  /**
   * The model the clients train: a ModelDefinition (shared/models/definition.ts) as a JSON object,
   * untrusted until the client has parsed it. Optional in protocol v1 (older servers omit it; the
   * client then derives the built-in model from `scenario.model`).
   */
  model?: Record<string, unknown>;
  paramCount: number;
  /** Largest frame the server accepts (ws maxPayload); larger frames close the connection (1009). */
  maxFrameBytes: number;
}

/** Broadcast to the clients selected for a round. */
export interface RoundStart {
  type: 'round.start';
  round: number;
  algorithm: 'fedsgd' | 'fedavg';
  learningRate: number;
  batchSize: number;
  localSteps: number;
  localEpochs: number;
  /** Milliseconds the server waits for updates after sending this message. */
  timeoutMs: number;
  /** Global parameters θ_t, flat float32. */
  params: Float32Array;
}

/** The server accepted the client's update for `round`. */
export interface UpdateAccepted {
  type: 'update.accepted';
  round: number;
}

/** SIMULATOR ONLY (evaluation channel): asks for the ground truth of the client's `round` update. */
export interface EvalTruthRequest {
  type: 'eval.truth-request';
  requestId: number;
  round: number;
}

/** The run is over (or the server is stopping); the client should close and exit. */
export interface Shutdown {
  type: 'shutdown';
  reason: string;
}

// ---- both directions -------------------------------------------------------------------------

/** A rejected message or a failed request. The connection stays open unless the sender closes it. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  /** The `type` of the message that caused it, when known. */
  ref?: string;
  /** For a failed `eval.truth-request`: its requestId. */
  requestId?: number;
}

/** type → message interface. Extended by module augmentation (e.g. shared/wire/secagg.ts). */
export interface MessageMap {
  hello: Hello;
  ready: Ready;
  update: Update;
  'eval.truth': EvalTruth;
  welcome: Welcome;
  'round.start': RoundStart;
  'update.accepted': UpdateAccepted;
  'eval.truth-request': EvalTruthRequest;
  shutdown: Shutdown;
  error: ErrorMessage;
}

export type MessageType = keyof MessageMap;
export type WireMessage = MessageMap[MessageType];

export type Sender = 'client' | 'server' | 'both';

export interface MessageSpec<T extends MessageType> {
  type: T;
  /** Who may send it; a peer receiving a message of the other side's kind rejects it as unknown. */
  from: Sender;
  /** Builds the typed message from untrusted fields; throws WireError. */
  decode(fields: Fields): MessageMap[T];
}

const SPECS = new Map<string, MessageSpec<MessageType>>();

export function registerMessage<T extends MessageType>(spec: MessageSpec<T>): void {
  if (SPECS.has(spec.type)) throw new Error(`wire message type "${spec.type}" is registered twice`);
  SPECS.set(spec.type, spec as unknown as MessageSpec<MessageType>);
}

export function messageSpec(type: string): MessageSpec<MessageType> | undefined {
  return SPECS.get(type);
}

export function knownTypes(from: 'client' | 'server'): string[] {
  return [...SPECS.values()].filter((s) => s.from === from || s.from === 'both').map((s) => s.type);
}

const MAX_ROUND = 1_000_000;

registerMessage({
  type: 'hello',
  from: 'client',
  decode: (f) => ({ type: 'hello', token: f.str('token', 256), agent: f.has('agent') ? f.str('agent', 256) : '' }),
});

registerMessage({ type: 'ready', from: 'client', decode: () => ({ type: 'ready' }) });

registerMessage({
  type: 'update',
  from: 'client',
  decode: (f) => ({
    type: 'update',
    round: f.int('round', 1, MAX_ROUND),
    kind: f.oneOf('kind', UPDATE_KINDS),
    numExamples: f.int('numExamples', 1),
    update: f.float32('update'),
  }),
});

registerMessage({
  type: 'eval.truth',
  from: 'client',
  decode: (f) => {
    const shape = f.intArray('shape', 1, 1 << 16);
    if (shape.length !== 3)
      throw new WireError('bad-message', `eval.truth.shape: expected [height, width, channels], got ${shape.length} numbers`);
    const count = f.int('count', 0);
    const images = f.float32('images');
    const labels = f.int32('labels');
    const want = count * shape[0] * shape[1] * shape[2];
    if (images.length !== want)
      throw new WireError('wrong-length', `eval.truth.images: ${images.length} values, expected count·h·w·c = ${want}`);
    if (labels.length !== count)
      throw new WireError('wrong-length', `eval.truth.labels: ${labels.length} labels, expected count = ${count}`);
    return {
      type: 'eval.truth',
      requestId: f.int('requestId'),
      round: f.int('round', 1, MAX_ROUND),
      count,
      shape: [shape[0], shape[1], shape[2]],
      images,
      labels,
    };
  },
});

registerMessage({
  type: 'welcome',
  from: 'server',
  decode: (f) => ({
    type: 'welcome',
    clientId: f.str('clientId', 64),
    clientIndex: f.int('clientIndex'),
    scenario: f.object('scenario'),
    ...(f.has('model') ? { model: f.object('model') } : {}),
    paramCount: f.int('paramCount', 1),
    maxFrameBytes: f.int('maxFrameBytes', 1),
  }),
});

registerMessage({
  type: 'round.start',
  from: 'server',
  decode: (f) => {
    const learningRate = f.num('learningRate');
    if (learningRate <= 0) throw new WireError('bad-message', `round.start.learningRate: must be positive, got ${learningRate}`);
    return {
      type: 'round.start',
      round: f.int('round', 1, MAX_ROUND),
      algorithm: f.oneOf('algorithm', ['fedsgd', 'fedavg'] as const),
      learningRate,
      batchSize: f.int('batchSize', 1),
      localSteps: f.int('localSteps', 1),
      localEpochs: f.int('localEpochs', 0),
      timeoutMs: f.int('timeoutMs', 1),
      params: f.float32('params'),
    };
  },
});

registerMessage({
  type: 'update.accepted',
  from: 'server',
  decode: (f) => ({ type: 'update.accepted', round: f.int('round', 1, MAX_ROUND) }),
});

registerMessage({
  type: 'eval.truth-request',
  from: 'server',
  decode: (f) => ({ type: 'eval.truth-request', requestId: f.int('requestId'), round: f.int('round', 1, MAX_ROUND) }),
});

registerMessage({
  type: 'shutdown',
  from: 'server',
  decode: (f) => ({ type: 'shutdown', reason: f.has('reason') ? f.str('reason') : '' }),
});

registerMessage({
  type: 'error',
  from: 'both',
  decode: (f) => {
    const msg: ErrorMessage = { type: 'error', code: f.str('code', 64), message: f.str('message', 65536) };
    if (f.has('ref')) msg.ref = f.str('ref', 64);
    if (f.has('requestId')) msg.requestId = f.int('requestId');
    return msg;
  },
});
