/**
 * Drives one secure-aggregation round over any message transport (the websocket coordinator, a
 * loopback test, the in-process simulator). A stage closes as soon as every expected client has
 * answered, refused or disconnected, or when `stageTimeoutMs` passes — whichever comes first.
 */
import type { SecAggServerMessage } from '../../shared/secagg/messages';
import { SecAggServer, STAGE_NAMES, type SecAggRoundResult, type SecAggServerParams } from './server';

export interface SecAggTransport {
  /** Sends to one client; throws (or returns false) when that client is gone. */
  send(clientId: string, message: SecAggServerMessage): boolean | void;
  /** Subscribes to secure-aggregation messages from clients; returns the unsubscribe function. */
  onMessage(handler: (clientId: string, message: unknown) => void): () => void;
  /** Subscribes to client disconnects (and clients that leave the round, with why); returns the unsubscribe function. */
  onDisconnect(handler: (clientId: string, why?: string) => void): () => void;
}

export interface RoundOptions {
  stageTimeoutMs: number;
  /** Deadline of AdvertiseKeys when it differs (clients may train first); default stageTimeoutMs. */
  firstStageTimeoutMs?: number;
  /** Called with each refused message (for logs); the round carries on. */
  onRejection?: (from: string, reason: string) => void;
}

export async function runSecureAggregationRound(
  transport: SecAggTransport,
  params: SecAggServerParams,
  options: RoundOptions,
): Promise<SecAggRoundResult> {
  const server = new SecAggServer(params);
  let wake: (() => void) | null = null;
  const poke = (): void => {
    if (wake && server.pending().length === 0) wake();
  };
  const offMessage = transport.onMessage((clientId, message) => {
    let r: ReturnType<SecAggServer['receive']>;
    try {
      r = server.receive(clientId, message);
    } catch (err) {
      // A fault of ours must not take the coordinator down: refuse the message, keep the round.
      r = { ok: false, reason: `internal error on a message from ${clientId}: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!r.ok) options.onRejection?.(clientId, r.reason);
    poke();
  });
  const offDisconnect = transport.onDisconnect((clientId, why) => {
    server.markDropped(clientId, why ?? `disconnected during ${STAGE_NAMES[server.stage]}`);
    poke();
  });
  const deliver = (to: string, message: SecAggServerMessage): void => {
    let sent: boolean | void;
    try {
      sent = transport.send(to, message);
    } catch {
      sent = false;
    }
    if (sent === false) server.markDropped(to, `unreachable when ${message.type} was sent`);
  };
  try {
    for (const o of server.start()) deliver(o.to, o.message);
    for (;;) {
      const timeout = server.stage === 'advertise' ? (options.firstStageTimeoutMs ?? options.stageTimeoutMs) : options.stageTimeoutMs;
      await waitForStage(server, timeout, (fn) => (wake = fn));
      wake = null;
      const { outgoing, result } = await server.closeStage();
      for (const o of outgoing) deliver(o.to, o.message);
      if (result) return result;
    }
  } finally {
    offMessage();
    offDisconnect();
  }
}

/** Resolves when nobody is pending or the stage deadline passes. */
function waitForStage(server: SecAggServer, timeoutMs: number, setWake: (fn: () => void) => void): Promise<void> {
  if (server.pending().length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    setWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
