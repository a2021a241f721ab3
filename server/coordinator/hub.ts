/**
 * The websocket side of the coordinator: accepts connections, authenticates each with its token
 * (`hello` → `welcome`), decodes and validates every frame, and routes accepted messages to the
 * handler of the current stage (updates to the round collector, eval.truth to the evaluation
 * channel). A bad frame gets an `error` message to that peer and a log line; nobody else notices.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import {
  decodeFrame,
  encodeMessage,
  WireError,
  type ErrorMessage,
  type MessageMap,
  type MessageType,
  type WireMessage,
} from '../../shared/wire';
import { printable } from '../../shared/text/printable';
import { ConnectionGate, DEFAULT_GATE, type GateOptions, type GateStats } from './connection-gate';
import { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimiterOptions } from './failure-limiter';
import type { ClientIdentity } from './tokens';

/** Close codes of the coordinator (docs/protocol.md, "Connection limits"). */
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_RATE_LIMITED = 4029;
/** RFC 6455: message too big. */
export const CLOSE_TOO_BIG = 1009;

export interface HubOptions {
  tokens: ReadonlyMap<string, ClientIdentity>;
  /** The public scenario sent in `welcome` (no attack settings). */
  publicScenario: Record<string, unknown>;
  /** The model definition sent in `welcome` (clients build the model from it). */
  modelDefinition?: Record<string, unknown>;
  paramCount: number;
  /** ws maxPayload once authenticated: larger frames close the connection with 1009. */
  maxFrameBytes: number;
  /** A connection must authenticate within this time (same as limits.handshakeTimeoutMs). */
  helloTimeoutMs?: number;
  /** Pre-authentication bounds (connection-gate.ts); defaults DEFAULT_GATE. */
  limits?: Partial<GateOptions>;
  /** Failed authentications allowed per remote address (failure-limiter.ts); default DEFAULT_FAILURE_LIMIT. */
  helloFailures?: FailureLimiterOptions;
  log: (line: string) => void;
}

export interface Rejection {
  /** Null before the peer authenticated. */
  clientId: string | null;
  code: string;
  message: string;
}

export interface HubEvents {
  registered: [clientId: string];
  /** The client sent `ready`: its data and model are built. */
  ready: [clientId: string];
  disconnected: [clientId: string];
  rejected: [rejection: Rejection];
  /** A client reported an error not tied to a request (e.g. it could not act on round.start). */
  'client-error': [clientId: string, error: ErrorMessage];
}

export type Handler<T extends MessageType> = (clientId: string, msg: MessageMap[T], frameBytes: number) => void;

interface Peer {
  ws: WebSocket;
  identity: ClientIdentity | null;
  ready: boolean;
  /** hello.agent: the client software (fedleak clients: "fedleak-client/<pid>"). */
  agent: string;
  remote: string;
  /** Remote IP address alone (the unit of the hello rate limit). */
  address: string;
  socket: Socket;
}

export class ClientHub extends EventEmitter<HubEvents> {
  private wss: WebSocketServer | null = null;
  private http: Server | null = null;
  private gate: ConnectionGate | null = null;
  private readonly limits: GateOptions;
  private readonly failures: FailureLimiter;
  private readonly peers = new Set<Peer>();
  private readonly bySocket = new Map<Socket, Peer>();
  private readonly byId = new Map<string, Peer>();
  private readonly handlers = new Map<string, Handler<MessageType>>();
  private closing = false;

  constructor(private readonly opts: HubOptions) {
    super();
    const timeout = opts.limits?.handshakeTimeoutMs ?? opts.helloTimeoutMs ?? DEFAULT_GATE.handshakeTimeoutMs;
    // A large cohort connects all at once: leave room for every legitimate client to be pending.
    const maxPending = opts.limits?.maxPending ?? Math.max(DEFAULT_GATE.maxPending, 2 * opts.tokens.size);
    this.limits = { ...DEFAULT_GATE, ...opts.limits, handshakeTimeoutMs: timeout, maxPending };
    this.failures = new FailureLimiter(opts.helloFailures ?? DEFAULT_FAILURE_LIMIT);
  }

  /** Listens on host:port (port 0: any free port); resolves with the port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    // Plain HTTP gets 426; the gate sees every TCP connection before HTTP or ws does.
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('fedleak coordinator: websocket connections only\n');
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxFrameBytes });
    this.http = http;
    this.wss = wss;
    this.gate = new ConnectionGate(http, this.limits, {
      onDeadline: (socket) => this.onDeadline(socket),
      onOversize: (socket, bytes) => this.onOversize(socket, bytes),
      onOverCapacity: (socket, pending) => this.onOverCapacity(socket, pending),
    });
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (this.closing) return socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    });
    http.on('clientError', (_err, socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        http.on('error', (err) => this.opts.log(`server: websocket server error: ${err.message}`));
        resolve((http.address() as AddressInfo).port);
      });
    });
  }

  /** Pre-authentication counters (for tests and the bench). */
  gateStats(): GateStats {
    return this.gate?.stats() ?? { pending: 0, open: 0, refusedOverCapacity: 0, timedOut: 0, oversize: 0 };
  }

  /** Authenticated clients now connected, in client-index order. */
  connected(): string[] {
    return [...this.byId.values()]
      .map((p) => p.identity as ClientIdentity)
      .sort((a, b) => a.clientIndex - b.clientIndex)
      .map((i) => i.clientId);
  }

  /** hello.agent of each connected client, by client id. */
  agents(): Map<string, string> {
    return new Map([...this.byId].map(([id, p]) => [id, p.agent]));
  }

  isConnected(clientId: string): boolean {
    return this.byId.has(clientId);
  }

  /** Sends to one client; false when it is not connected. Returns the frame size. */
  send(clientId: string, msg: WireMessage): number {
    const peer = this.byId.get(clientId);
    if (!peer || peer.ws.readyState !== WebSocket.OPEN) return 0;
    const frame = encodeMessage(msg);
    peer.ws.send(frame);
    return frame.byteLength;
  }

  /** Routes messages of `type` to `handler` until the returned function is called. */
  handle<T extends MessageType>(type: T, handler: Handler<T>): () => void {
    if (this.handlers.has(type)) throw new Error(`hub: a handler for "${type}" is already installed`);
    this.handlers.set(type, handler as unknown as Handler<MessageType>);
    return () => {
      if (this.handlers.get(type) === (handler as unknown)) this.handlers.delete(type);
    };
  }

  /** Resolves once `count` clients are connected (authenticated); rejects after timeoutMs (0: wait forever). */
  waitForClients(count: number, timeoutMs = 0): Promise<void> {
    return this.waitFor('registered', () => this.byId.size, count, timeoutMs, 'connected');
  }

  /** Resolves once `count` connected clients have sent `ready`; rejects after timeoutMs (0: wait forever). */
  waitForReady(count: number, timeoutMs = 0): Promise<void> {
    const readyCount = () => [...this.byId.values()].filter((p) => p.ready).length;
    return this.waitFor('ready', readyCount, count, timeoutMs, 'ready');
  }

  private waitFor(event: 'registered' | 'ready', current: () => number, count: number, timeoutMs: number, what: string): Promise<void> {
    if (current() >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (current() < count) return;
        if (timer) clearTimeout(timer);
        this.off(event, check);
        resolve();
      };
      this.on(event, check);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.off(event, check);
          reject(new Error(`only ${current()} of ${count} clients ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Sends an `error` to the peer, logs it and emits `rejected`. */
  reject(clientId: string | null, code: string, message: string, ref?: string): void {
    const peer = clientId ? this.byId.get(clientId) : undefined;
    const safe = printable(message, 500);
    if (peer) this.sendRaw(peer, { type: 'error', code, message: safe, ...(ref ? { ref } : {}) });
    this.rejected(clientId, code, safe);
  }

  /** Messages may quote what a peer sent: escaped and cut before they reach the log. */
  private rejected(clientId: string | null, code: string, message: string, remote?: string): void {
    const safe = printable(message, 500);
    const repeat = clientId === null ? this.countUnauthenticated(code, remote ?? '') : 1;
    // A flood from one address: the first ten lines, then one per hundred (with the count).
    if (repeat <= 10 || repeat % 100 === 0) {
      const times = repeat > 10 ? ` (${repeat} times from this address)` : '';
      this.opts.log(`server: rejected ${clientId ?? `unauthenticated peer ${remote ?? ''}`.trim()}: ${code}: ${safe}${times}`);
    }
    this.emit('rejected', { clientId, code, message: safe });
  }

  private readonly unauthenticatedCounts = new Map<string, number>();
  private countUnauthenticated(code: string, remote: string): number {
    const key = `${code}@${remote.replace(/:\d+$/, '')}`;
    if (this.unauthenticatedCounts.size > 10000) this.unauthenticatedCounts.clear();
    const n = (this.unauthenticatedCounts.get(key) ?? 0) + 1;
    this.unauthenticatedCounts.set(key, n);
    return n;
  }

  private sendRaw(peer: Peer, msg: WireMessage): void {
    if (peer.ws.readyState === WebSocket.OPEN) peer.ws.send(encodeMessage(msg));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    if (this.closing) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const socket = req.socket;
    const address = socket.remoteAddress ?? '?';
    const peer: Peer = { ws, identity: null, ready: false, agent: '', remote: `${address}:${socket.remotePort ?? '?'}`, address, socket };
    this.peers.add(peer);
    this.bySocket.set(socket, peer);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(peer, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the connection itself (1009 for frames over maxPayload); we log and report.
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame-too-large' : 'bad-frame';
      const detail =
        code === 'frame-too-large'
          ? `frame over the ${this.opts.maxFrameBytes}-byte limit; connection closed (1009)`
          : printable(err.message);
      this.rejected(peer.identity?.clientId ?? null, code, detail, peer.remote);
    });
    ws.on('close', () => {
      this.peers.delete(peer);
      this.bySocket.delete(socket);
      if (peer.identity && this.byId.get(peer.identity.clientId) === peer) {
        this.byId.delete(peer.identity.clientId);
        if (!this.closing) this.opts.log(`server: ${peer.identity.clientId} disconnected`);
        this.emit('disconnected', peer.identity.clientId);
      }
    });
  }

  /** Error to the peer, then close (authentication failures); each failure counts against its address. */
  private refuse(peer: Peer, code: string, message: string, closeCode = CLOSE_UNAUTHORIZED): void {
    if (closeCode !== CLOSE_RATE_LIMITED) this.failures.recordFailure(peer.address);
    const safe = printable(message, 500);
    this.sendRaw(peer, { type: 'error', code, message: safe, ref: 'hello' });
    this.rejected(peer.identity?.clientId ?? null, code, safe, peer.remote);
    peer.ws.close(closeCode, code);
    this.gate?.authenticated(peer.socket); // no longer pending; the backstop below ends it
    terminateSoon(peer.ws);
  }

  /** Raw TCP or HTTP that never upgraded is dropped; a websocket without hello is refused. */
  private onDeadline(socket: Socket): void {
    const peer = this.bySocket.get(socket);
    if (peer && !peer.identity) this.refuse(peer, 'unauthorized', `no hello within ${this.limits.handshakeTimeoutMs} ms`);
    else if (!peer) {
      this.failures.recordFailure(socket.remoteAddress ?? '?');
      socket.destroy();
    }
  }

  private onOversize(socket: Socket, bytes: number): void {
    const peer = this.bySocket.get(socket);
    const message = `${bytes} bytes before hello, over the ${this.limits.preAuthMaxBytes}-byte limit for unauthenticated peers; connection closed (1009)`;
    this.failures.recordFailure(socket.remoteAddress ?? '?');
    this.rejected(null, 'frame-too-large', message, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    if (!peer) return void socket.destroy();
    peer.ws.close(CLOSE_TOO_BIG, 'frame too large before hello');
    socket.pause(); // read no more of it; the close frame still goes out
    terminateSoon(peer.ws);
  }

  private overCapacityLogged = 0;
  private onOverCapacity(socket: Socket, pending: number): void {
    // One line per hundred refusals: a connection flood must not become a log flood.
    if (this.overCapacityLogged++ % 100 === 0) {
      this.opts.log(
        `server: refused a connection from ${socket.remoteAddress ?? '?'}: ${pending} unauthenticated connections pending (limit ${this.limits.maxPending}); ${this.overCapacityLogged} refused so far`,
      );
    }
  }

  private onFrame(peer: Peer, data: Buffer, isBinary: boolean): void {
    if (peer.ws.readyState !== WebSocket.OPEN) return; // closing (refused or over budget): ignore what is still queued
    let msg: WireMessage;
    try {
      if (!isBinary) throw new WireError('bad-frame', 'text frame; the protocol uses binary frames only');
      msg = decodeFrame(data, 'server');
    } catch (err) {
      const code = err instanceof WireError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      if (!peer.identity) this.refuse(peer, code === 'internal' ? 'unauthorized' : code, `${message} (before hello)`);
      else this.reject(peer.identity.clientId, code, message);
      return;
    }
    if (!peer.identity) {
      this.onHello(peer, msg);
      return;
    }
    const clientId = peer.identity.clientId;
    if (msg.type === 'hello') {
      this.reject(clientId, 'bad-message', 'already authenticated on this connection', 'hello');
      return;
    }
    if (msg.type === 'ready') {
      if (!peer.ready) {
        peer.ready = true;
        this.emit('ready', clientId);
      }
      return;
    }
    if (msg.type === 'error' && msg.requestId === undefined) {
      this.opts.log(
        `server: ${clientId} reported ${printable(msg.code, 40)}${msg.ref ? ` about ${printable(msg.ref, 40)}` : ''}: ${printable(msg.message)}`,
      );
      this.emit('client-error', clientId, msg);
      return;
    }
    const refusal = refusalOf(msg);
    if (refusal) this.opts.log(`server: ${clientId} refused round ${refusal.round} of secure aggregation: ${printable(refusal.reason)}`);
    const handler = this.handlers.get(msg.type);
    if (!handler) {
      const code = msg.type === 'update' ? 'wrong-round' : 'bad-message';
      const why = msg.type === 'update' ? 'no round is open for updates' : `a ${msg.type} message is not expected now`;
      this.reject(clientId, code, why, msg.type);
      return;
    }
    try {
      handler(clientId, msg, data.byteLength);
    } catch (err) {
      // A failing stage handler must not take the server down; the peer learns, the log says why.
      this.reject(
        clientId,
        'internal',
        `the server failed to process ${msg.type}: ${printable(err instanceof Error ? err.message : String(err))}`,
        msg.type,
      );
    }
  }

  private onHello(peer: Peer, msg: WireMessage): void {
    if (this.failures.blocked(peer.address)) {
      const wait = this.failures.retryAfterSeconds(peer.address);
      this.refuse(peer, 'rate-limited', `too many failed authentications from ${peer.address}; try again in ${wait} s`, CLOSE_RATE_LIMITED);
      return;
    }
    if (msg.type !== 'hello') {
      this.refuse(peer, 'unauthorized', `the first message must be hello, got ${msg.type}`);
      return;
    }
    const identity = this.opts.tokens.get(msg.token);
    if (!identity) {
      this.refuse(peer, 'unauthorized', 'unknown token');
      return;
    }
    if (this.byId.has(identity.clientId)) {
      this.refuse(peer, 'unauthorized', `${identity.clientId} is already connected`);
      return;
    }
    peer.identity = identity;
    peer.agent = printable(msg.agent, 100);
    this.byId.set(identity.clientId, peer);
    this.gate?.authenticated(peer.socket);
    this.sendRaw(peer, {
      type: 'welcome',
      clientId: identity.clientId,
      clientIndex: identity.clientIndex,
      scenario: this.opts.publicScenario,
      ...(this.opts.modelDefinition ? { model: this.opts.modelDefinition } : {}),
      paramCount: this.opts.paramCount,
      maxFrameBytes: this.opts.maxFrameBytes,
    });
    this.emit('registered', identity.clientId);
  }

  /** Sends `shutdown` to every client, waits (up to graceMs) for them to close, then stops listening. */
  async close(reason: string, graceMs = 5000): Promise<void> {
    this.closing = true;
    const open = [...this.peers];
    for (const p of open) {
      if (p.identity) this.sendRaw(p, { type: 'shutdown', reason });
      else p.ws.close(1001, 'server shutting down');
    }
    await Promise.all(
      open.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => p.ws.terminate(), graceMs);
            p.ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    // Idle TCP connections (never upgraded) would keep the process alive after its run.
    this.gate?.destroyAll();
    const wss = this.wss;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    const http = this.http;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }
}

/** A refused peer that does not answer our close frame is cut off instead of held for ws's 30 s. */
function terminateSoon(ws: WebSocket): void {
  setTimeout(() => ws.terminate(), 1000).unref();
}

/** `secagg.refuse` (shared/wire/secagg.ts), read without importing the secure-aggregation messages. */
function refusalOf(msg: WireMessage): { round: number; reason: string } | null {
  if ((msg.type as string) !== 'secagg.refuse') return null;
  const m = msg as unknown as { round?: unknown; reason?: unknown };
  return { round: typeof m.round === 'number' ? m.round : -1, reason: typeof m.reason === 'string' ? m.reason : '' };
}
