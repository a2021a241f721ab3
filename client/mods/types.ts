/**
 * The contract of one client-side defence: a stage of the pipeline in client/mods/index.ts.
 * A stage works in place on the pipeline's private copy of the update and returns what it did.
 */
import type { ParamSpec } from '../../shared/models/types';
import type { Rng } from '../../shared/random';

export interface DefenseContext {
  /** Seeded stream of the client; stages that draw noise advance it. */
  rng: Rng;
  /**
   * Tensor boundaries of the update (the model's specs, flatten order). Per-tensor defences
   * (pruning, int8) treat the whole vector as one tensor when absent.
   */
  specs?: readonly ParamSpec[];
}

/** What a stage did, as plain numbers for results.json (e.g. norm before/after, zeroed count). */
export type StageReport = Record<string, number>;

export interface Defense<Config> {
  readonly name: string;
  /** Transforms `values` in place. */
  apply(values: Float32Array, config: Config, context: DefenseContext): StageReport;
}
