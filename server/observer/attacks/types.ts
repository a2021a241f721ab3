/**
 * What an attack sees and what it returns. An attack gets the contract records (shared/contract.ts):
 * the update as the server received it (`observed`), what the server sent for that round
 * (`payload`), and what a malicious server planted (`secrets`), plus its own settings and seed.
 * Ground truth (TrueUserData) never enters here; scoring happens afterwards (server/metrics).
 * Attack inputs are built by one function, `attackInput` (server/observer/attack-input.ts).
 */
import type { ObservedBatchStatistics } from '../batch-statistics';
import type { AttackSecrets, ObservedUpdate, ServerPayload, UpdateKind } from '../../../shared/contract';
import type { Model } from '../../../shared/models';
import type { Capability } from '../threat-model';
import type { BuiltinAttackSettings, SettingsSchema } from './settings';

export type { UpdateKind };

export interface AttackInput<Settings = BuiltinAttackSettings> {
  observed: ObservedUpdate;
  payload: ServerPayload;
  /** What a malicious server planted in the model it sent; absent for an honest-but-curious server. */
  secrets?: AttackSecrets;
  /** This attack's validated settings (a built-in: the scenario `attack` entry; a plug-in: `attack.settings`). */
  settings: Settings;
  /** Seed for the attack's own randomness (dummy init). */
  seed: number;
  /**
   * Batch norm: each layer's batch statistics, solved from the moving statistics in the update
   * (server/observer/batch-statistics.ts); absent without batch norm or after several local steps.
   * Attacks use them only when their settings declare the batchnorm-statistics capability.
   */
  batchStatistics?: ObservedBatchStatistics[];
}

export interface AttackProgress {
  iteration: number;
  objective: number;
  /** Optimizer steps planned in all (restarts and screening runs included), when the attack knows it. */
  total?: number;
  /** Which of `restarts` independent runs this step belongs to (0-based), for attacks that restart. */
  restart?: number;
  restarts?: number;
  /** The current guess (images NHWC in [0, 1], like AttackOutput.images), sent now and then for live displays. */
  preview?: Float32Array;
}

export interface AttackOutput {
  /** Reconstructed images, NHWC flat, [count, h, w, c], values in [0,1]. */
  images: Float32Array;
  count: number;
  /** Recovered label per reconstructed image (same order). */
  labels: number[];
  iterations: number;
  evaluations: number;
  finalObjective: number;
  seconds: number;
  /** Set when the attack reconstructed fewer slots than the examples behind the update (a cap applied). */
  truncated?: { batchSize: number; attackedSlots: number };
  /** Iteration numbers at which a fresh restart began (restart 0 excluded), for marking curves. */
  restartStarts?: number[];
}

export type Attack<Settings = BuiltinAttackSettings> = (
  input: AttackInput<Settings>,
  onProgress?: (p: AttackProgress) => void,
) => Promise<AttackOutput>;

/**
 * An attack as the registry holds it: its name, the schema of its settings, and the function. A
 * built-in attack's settings are its scenario `attack` entry; a plug-in's are `attack.settings`.
 */
export interface AttackDefinition<Settings = unknown> {
  name: string;
  settings: SettingsSchema<Settings>;
  run: Attack<Settings>;
  /**
   * What the attacker must know or be able to do (server/observer/threat-model.ts), for these
   * settings; a run refuses the attack before training when the scenario's threatModel grants less.
   * Undeclared (a plug-in): updates and architecture.
   */
  requires?: (settings: Settings) => readonly Capability[];
  /** Why the attack cannot run on this model (e.g. no dense first layer), or null when it can. */
  modelProblem?: (model: Model) => string | null;
}

/** What an attack definition declares it needs, for its settings. */
export function requiredCapabilities<S>(definition: AttackDefinition<S>, settings: S): readonly Capability[] {
  return definition.requires ? definition.requires(settings) : ['updates', 'architecture'];
}
