/**
 * Writes each observed update's capture and, beside it, the truth file that scores an offline
 * attack on it (`fedleak attack --capture F --truth T`): `<name>.msgpack` and `<name>.truth.msgpack`.
 * Truth comes over the simulator's evaluation channel, fetched while the client still holds it;
 * flush() waits for every pending fetch and says which could not be written.
 */
import * as path from 'node:path';
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import type { EvaluationChannel } from '../observer/hook';
import type { Scenario } from '../scenario/schema';
import { captureFileName, captureOf, writeCapture, writeTruth } from './capture';

/** `round-1-client-c0.msgpack` → `round-1-client-c0.truth.msgpack`. */
export function truthFileFor(captureFile: string): string {
  return captureFile.replace(/\.msgpack$/, '.truth.msgpack');
}

export class CaptureWriter {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly scenario: Pick<Scenario, 'attack' | 'seed'>,
    private readonly evaluation: EvaluationChannel,
    private readonly log: (line: string) => void,
  ) {}

  write(observed: ObservedUpdate, payload: ServerPayload): void {
    const file = path.join(this.dir, captureFileName(observed.round, observed.sender));
    writeCapture(file, captureOf(observed, payload, this.scenario));
    const job = this.evaluation
      .fetchTruth(observed.round, observed.sender)
      .then((truth) => writeTruth(truthFileFor(file), { images: truth.images, labels: truth.labels, count: truth.count }))
      .catch((err: unknown) =>
        this.log(`fedleak: capture: no truth file for ${path.basename(file)}: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
