/**
 * SIMULATOR ONLY. The evaluation channel over the wire: `eval.truth-request` → `eval.truth` (or an
 * `error` with the requestId). Scoring code gets this object; attack code never does.
 */
import type { EvaluationChannel, GroundTruth } from '../observer/hook';
import type { ClientHub } from './hub';

interface Pending {
  clientId: string;
  round: number;
  resolve: (t: GroundTruth) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WireEvaluationChannel implements EvaluationChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly hub: ClientHub,
    private readonly timeoutMs = 60000,
  ) {
    this.detach.push(
      hub.handle('eval.truth', (clientId, msg) => {
        const p = this.pending.get(msg.requestId);
        if (!p || p.clientId !== clientId || p.round !== msg.round) {
          hub.reject(
            clientId,
            'bad-message',
            `eval.truth for request ${msg.requestId} (round ${msg.round}) that was not asked of ${clientId}`,
            'eval.truth',
          );
          return;
        }
        this.settle(msg.requestId)?.resolve({ images: msg.images, labels: Array.from(msg.labels), count: msg.count });
      }),
      hub.handle('error', (clientId, msg) => {
        const p = msg.requestId === undefined ? undefined : this.pending.get(msg.requestId);
        if (!p || p.clientId !== clientId) return;
        this.settle(msg.requestId as number)?.reject(
          new Error(`${clientId} could not give the ground truth of round ${p.round}: ${msg.code}: ${msg.message}`),
        );
      }),
    );
    const onGone = (clientId: string) => {
      for (const [id, p] of this.pending) {
        if (p.clientId === clientId)
          this.settle(id)?.reject(new Error(`${clientId} disconnected before sending the ground truth of round ${p.round}`));
      }
    };
    hub.on('disconnected', onGone);
    this.detach.push(() => hub.off('disconnected', onGone));
  }

  fetchTruth(round: number, clientId: string): Promise<GroundTruth> {
    return new Promise((resolve, reject) => {
      const requestId = this.nextId++;
      if (this.hub.send(clientId, { type: 'eval.truth-request', requestId, round }) === 0) {
        reject(new Error(`${clientId} is not connected; no ground truth for round ${round}`));
        return;
      }
      const timer = setTimeout(
        () =>
          this.settle(requestId)?.reject(
            new Error(`${clientId} did not send the ground truth of round ${round} within ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
      this.pending.set(requestId, { clientId, round, resolve, reject, timer });
    });
  }

  private settle(requestId: number): Pending | undefined {
    const p = this.pending.get(requestId);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(requestId);
    return p;
  }

  /** Rejects what is still pending and unhooks from the hub. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new Error('evaluation channel closed'));
    for (const d of this.detach) d();
  }
}
