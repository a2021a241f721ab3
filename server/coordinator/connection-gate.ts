/**
 * Bounds what an unauthenticated peer can cost the coordinator. Every TCP connection is "pending"
 * from accept until its `hello` is accepted; while pending it
 * - counts against `maxPending` (connections over the cap are closed at accept),
 * - must authenticate within `handshakeTimeoutMs` (raw TCP, HTTP that never upgrades, or a
 *   websocket without `hello`), and
 * - may send at most `preAuthMaxBytes` in total (HTTP upgrade request and frames together).
 * ws has one maxPayload per server, so the small pre-authentication budget is counted here on the
 * raw socket and the full frame limit stays with ws for authenticated peers.
 * Every socket is tracked, so `destroyAll()` can end idle ones when the server closes.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface GateOptions {
  /** Unauthenticated connections held at once; more are closed at accept. */
  maxPending: number;
  /** From TCP accept to an accepted `hello`. */
  handshakeTimeoutMs: number;
  /** Bytes a peer may send before it authenticates. */
  preAuthMaxBytes: number;
}

export interface GateEvents {
  /** A pending connection passed its deadline (the hub refuses it or drops it). */
  onDeadline(socket: Socket): void;
  /** A pending connection sent more than preAuthMaxBytes. */
  onOversize(socket: Socket, bytes: number): void;
  /** A connection was closed at accept because maxPending were already pending. */
  onOverCapacity(socket: Socket, pending: number): void;
}

export interface GateStats {
  pending: number;
  open: number;
  refusedOverCapacity: number;
  timedOut: number;
  oversize: number;
}

interface Pending {
  timer: NodeJS.Timeout;
  bytes: number;
  onData: (chunk: Buffer) => void;
}

export const DEFAULT_GATE: GateOptions = { maxPending: 100, handshakeTimeoutMs: 10000, preAuthMaxBytes: 64 * 1024 };

export class ConnectionGate {
  private readonly pending = new Map<Socket, Pending>();
  private readonly open = new Set<Socket>();
  private readonly counts = { refusedOverCapacity: 0, timedOut: 0, oversize: 0 };

  constructor(
    server: Server,
    private readonly opts: GateOptions,
    private readonly events: GateEvents,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    if (this.pending.size >= this.opts.maxPending) {
      this.counts.refusedOverCapacity++;
      this.events.onOverCapacity(socket, this.pending.size);
      socket.destroy();
      return;
    }
    this.open.add(socket);
    const entry: Pending = {
      bytes: 0,
      timer: setTimeout(() => {
        if (!this.pending.has(socket)) return;
        this.counts.timedOut++;
        this.release(socket);
        this.events.onDeadline(socket);
      }, this.opts.handshakeTimeoutMs),
      onData: (chunk: Buffer) => {
        entry.bytes += chunk.length;
        if (entry.bytes <= this.opts.preAuthMaxBytes) return;
        this.counts.oversize++;
        this.release(socket);
        this.events.onOversize(socket, entry.bytes);
      },
    };
    this.pending.set(socket, entry);
    socket.on('data', entry.onData);
    socket.once('close', () => {
      this.release(socket);
      this.open.delete(socket);
    });
  }

  /** The peer on `socket` authenticated: no more deadline or byte budget, and it no longer counts as pending. */
  authenticated(socket: Socket): void {
    this.release(socket);
  }

  isPending(socket: Socket): boolean {
    return this.pending.has(socket);
  }

  private release(socket: Socket): void {
    const entry = this.pending.get(socket);
    if (!entry) return;
    clearTimeout(entry.timer);
    socket.off('data', entry.onData);
    this.pending.delete(socket);
  }

  stats(): GateStats {
    return { pending: this.pending.size, open: this.open.size, ...this.counts };
  }

  /** Ends every connection (idle, pending or not) so that the listening server can close. */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
    for (const socket of [...this.pending.keys()]) this.release(socket);
  }
}
