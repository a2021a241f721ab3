/**
 * SIMULATOR ONLY. Ground truth of the "aggregate" target: the examples of every client whose input is
 * in that round's unmasked aggregate, concatenated in survivor order. Other targets pass through.
 */
import type { EvaluationChannel, GroundTruth } from '../observer/hook';

export class AggregateTruth implements EvaluationChannel {
  private readonly members = new Map<number, string[]>();

  constructor(private readonly inner: EvaluationChannel) {}

  /** The secure-aggregation stage reports who is in each round's aggregate. */
  record(round: number, clients: string[]): void {
    this.members.set(round, [...clients]);
  }

  async fetchTruth(round: number, clientId: string): Promise<GroundTruth> {
    if (clientId !== 'aggregate') return this.inner.fetchTruth(round, clientId);
    const clients = this.members.get(round);
    if (!clients || clients.length === 0) throw new Error(`no secure aggregate was revealed in round ${round}`);
    const parts = await Promise.all(clients.map((c) => this.inner.fetchTruth(round, c)));
    const count = parts.reduce((s, p) => s + p.count, 0);
    const images = new Float32Array(parts.reduce((s, p) => s + p.images.length, 0));
    let offset = 0;
    for (const p of parts) {
      images.set(p.images, offset);
      offset += p.images.length;
    }
    return { images, labels: parts.flatMap((p) => p.labels), count };
  }
}
