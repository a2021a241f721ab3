/**
 * The websocket side of the coordinator: accepts connections, authenticates each with its token
 * (`hello` → `welcome`), decodes and validates every frame, and routes accepted messages to the
 * handler of the current stage (updates to the round collector, eval.truth to the evaluation
 * channel). A bad frame gets an `error` message to that peer and a log line; nobody else notices.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { decodeFrame, encodeMessage, WireError, type ErrorMessage, type MessageMap, type MessageType, type WireMessage } from '../../shared/wire';
import type { ClientIdentity } from './tokens';

export interface HubOptions {
  tokens: ReadonlyMap<string, ClientIdentity>;
  /** The public scenario sent in `welcome` (no attack settings). */
  publicScenario: Record<string, unknown>;
  /** The model definition sent in `welcome` (clients build the model from it). */
  modelDefinition?: Record<string, unknown>;
  paramCount: number;
  /** ws maxPayload: larger frames close the connection with 1009. */
  maxFrameBytes: number;
  /** A connection must authenticate within this time. */
  helloTimeoutMs?: number;
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
}

export class ClientHub extends EventEmitter<HubEvents> {
  private wss: WebSocketServer | null = null;
  private readonly peers = new Set<Peer>();
  private readonly byId = new Map<string, Peer>();
  private readonly handlers = new Map<string, Handler<MessageType>>();
  private closing = false;

  constructor(private readonly opts: HubOptions) {
    super();
  }

  /** Listens on host:port (port 0: any free port); resolves with the port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    const wss = new WebSocketServer({ port, host, maxPayload: this.opts.maxFrameBytes });
    this.wss = wss;
    wss.on('connection', (ws, req) => this.accept(ws, req));
    return new Promise((resolve, reject) => {
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        wss.on('error', (err) => this.opts.log(`server: websocket server error: ${err.message}`));
        resolve((wss.address() as AddressInfo).port);
      });
    });
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
    if (peer) this.sendRaw(peer, { type: 'error', code, message, ...(ref ? { ref } : {}) });
    this.rejected(clientId, code, message);
  }

  private rejected(clientId: string | null, code: string, message: string, remote?: string): void {
    this.opts.log(`server: rejected ${clientId ?? `unauthenticated peer ${remote ?? ''}`.trim()}: ${code}: ${message}`);
    this.emit('rejected', { clientId, code, message });
  }

  private sendRaw(peer: Peer, msg: WireMessage): void {
    if (peer.ws.readyState === WebSocket.OPEN) peer.ws.send(encodeMessage(msg));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    if (this.closing) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const peer: Peer = { ws, identity: null, ready: false, agent: '', remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}` };
    this.peers.add(peer);
    const helloTimer = setTimeout(() => {
      if (peer.identity) return;
      this.refuse(peer, 'unauthorized', `no hello within ${this.opts.helloTimeoutMs ?? 30000} ms`);
    }, this.opts.helloTimeoutMs ?? 30000);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(peer, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the connection itself (1009 for frames over maxPayload); we log and report.
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame-too-large' : 'bad-frame';
      const detail = code === 'frame-too-large' ? `frame over the ${this.opts.maxFrameBytes}-byte limit; connection closed (1009)` : err.message;
      this.rejected(peer.identity?.clientId ?? null, code, detail, peer.remote);
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      this.peers.delete(peer);
      if (peer.identity && this.byId.get(peer.identity.clientId) === peer) {
        this.byId.delete(peer.identity.clientId);
        if (!this.closing) this.opts.log(`server: ${peer.identity.clientId} disconnected`);
        this.emit('disconnected', peer.identity.clientId);
      }
    });
  }

  /** Error to the peer, then close (authentication failures). */
  private refuse(peer: Peer, code: string, message: string): void {
    this.sendRaw(peer, { type: 'error', code, message, ref: 'hello' });
    this.rejected(peer.identity?.clientId ?? null, code, message, peer.remote);
    peer.ws.close(4001, code);
  }

  private onFrame(peer: Peer, data: Buffer, isBinary: boolean): void {
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
      this.opts.log(`server: ${clientId} reported ${msg.code}${msg.ref ? ` about ${msg.ref}` : ''}: ${msg.message}`);
      this.emit('client-error', clientId, msg);
      return;
    }
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
      this.reject(clientId, 'internal', `the server failed to process ${msg.type}: ${err instanceof Error ? err.message : String(err)}`, msg.type);
    }
  }

  private onHello(peer: Peer, msg: WireMessage): void {
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
    peer.agent = msg.agent;
    this.byId.set(identity.clientId, peer);
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
    const wss = this.wss;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}
