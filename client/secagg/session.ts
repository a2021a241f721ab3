/**
 * Secure aggregation inside a client connection: instead of sending its update in the clear, the
 * client keeps it for the round's protocol and answers the server's `secagg.*` requests with its
 * state machine (shared/secagg/client.ts). Also answers the simulator-only `eval.secagg-input` check
 * and plays the scenario's simulated drop-outs (disconnect, or fall silent, at a given stage).
 */
import '../../shared/wire/secagg';
import type { WireMessage } from '../../shared/wire';
import type { Rng } from '../../shared/random';
import { SecAggClient } from '../../shared/secagg/client';
import { isSecAggMessage, type SecAggServerMessage } from '../../shared/secagg/messages';
import type { SecureAggregationConfig } from '../../shared/scenario/public';

export type SecAggStage = 'advertise' | 'share-keys' | 'masked-input' | 'unmask';

const STAGE_OF: Partial<Record<string, SecAggStage>> = {
  'secagg.advertise-request': 'advertise',
  'secagg.share-keys-request': 'share-keys',
  'secagg.masked-input-request': 'masked-input',
  'secagg.unmask-request': 'unmask',
};

export interface ClientSecAggOptions {
  clientId: string;
  config: SecureAggregationConfig;
  send: (msg: WireMessage) => void;
  /** Closes the connection (a simulated kill). */
  disconnect: (why: string) => void;
  log: (line: string) => void;
}

interface RoundInput {
  update: Float32Array;
  session: SecAggClient;
}

export class ClientSecAgg {
  private readonly rounds = new Map<number, RoundInput>();
  /** Serialises message handling: replies go out in the order requests came in. */
  private queue: Promise<void> = Promise.resolve();
  /** Round in which this client fell silent (simulated drop-out). */
  private silentRound = 0;

  constructor(private readonly opts: ClientSecAggOptions) {}

  /** Called instead of sending a plain update: the update waits for this round's protocol. */
  begin(round: number, update: Float32Array, numExamples: number, rng: Rng): void {
    for (const r of this.rounds.keys()) if (r < round - 1) this.rounds.delete(r);
    this.rounds.set(round, { update, session: new SecAggClient({ clientId: this.opts.clientId, rng, input: update, numExamples }) });
  }

  /** True when the message was a secure-aggregation message (handled here). */
  handle(msg: WireMessage): boolean {
    if (msg.type === 'eval.secagg-input-request') {
      const r = this.rounds.get(msg.round);
      this.opts.send({
        type: 'eval.secagg-input',
        requestId: msg.requestId,
        round: msg.round,
        available: !!r,
        update: r ? r.update : new Float32Array(0),
      });
      return true;
    }
    if (!isSecAggMessage(msg)) return false;
    const m = msg as SecAggServerMessage;
    this.queue = this.queue.then(() => this.respond(m));
    return true;
  }

  private async respond(m: SecAggServerMessage): Promise<void> {
    if (this.silentRound === m.round) return;
    const stage = STAGE_OF[m.type];
    const drop = stage ? this.dropAt(m.round, stage) : undefined;
    if (drop) {
      this.opts.log(`${this.opts.clientId}: simulated drop-out at ${stage} of round ${m.round} (${drop})`);
      if (drop === 'disconnect') this.opts.disconnect(`simulated drop-out at ${stage}`);
      else this.silentRound = m.round;
      return;
    }
    const r = this.rounds.get(m.round);
    if (!r) {
      if (m.type !== 'secagg.abort') {
        this.opts.send({
          type: 'secagg.refuse',
          round: m.round,
          clientId: this.opts.clientId,
          reason: `${this.opts.clientId} has no update for round ${m.round} (it did not receive round.start)`,
        });
      }
      return;
    }
    let reply;
    try {
      reply = await r.session.respond(m);
    } catch (err) {
      // Not a protocol refusal but a fault of ours: still answer, never leave the server waiting.
      const reason = `${this.opts.clientId}: internal error in ${m.type}: ${err instanceof Error ? err.message : String(err)}`;
      reply = { type: 'secagg.refuse' as const, round: m.round, clientId: this.opts.clientId, reason };
    }
    if (reply?.type === 'secagg.refuse') this.opts.log(`${this.opts.clientId}: refused ${m.type}: ${reply.reason}`);
    if (m.type === 'secagg.abort') this.opts.log(`${this.opts.clientId}: round ${m.round} aborted: ${m.reason}`);
    if (reply) this.opts.send(reply);
  }

  private dropAt(round: number, stage: SecAggStage): 'disconnect' | 'silent' | undefined {
    const d = this.opts.config.dropouts.find(
      (x) => x.client === this.opts.clientId && x.stage === stage && (x.round === undefined || x.round === round),
    );
    return d?.mode;
  }
}
