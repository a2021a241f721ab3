/**
 * What an attack sees and what it returns. The observer builds AttackInput only from what the
 * server really has: the received update, the round's global model and the public config.
 * Ground truth never enters here; scoring happens afterwards (server/metrics).
 */
import type { AttackConfig, FederationConfig } from '../../scenario/schema';
import type { ModelConfig } from '../../scenario/schema';
import type { ImageShape } from '../../../shared/models/types';

export type UpdateKind =
  /** fedsgd: ∇θ of the mean soft-cross-entropy over the client's batch, at the global params. */
  | 'gradient'
  /** fedavg: θ_local − θ_global after the client's local SGD steps. */
  | 'weight-delta';

export interface AttackInput {
  /** Public model description; the attack rebuilds the model from it. */
  model: { config: ModelConfig; inputShape: ImageShape; numClasses: number };
  globalParams: Float32Array;
  update: Float32Array;
  updateKind: UpdateKind;
  /** Public training config (learning rate, local steps, batch size) the server published. */
  training: Pick<FederationConfig, 'algorithm' | 'batchSize' | 'localSteps' | 'learningRate' | 'localEpochs'>;
  /** Examples behind this update, as the client declared them for weighting. */
  numExamples: number;
  attack: AttackConfig;
  /** Seed for the attack's own randomness (dummy init). */
  seed: number;
}

export interface AttackProgress {
  iteration: number;
  objective: number;
  /** Optimizer steps planned in all (restarts and screening runs included), when the attack knows it. */
  total?: number;
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
}

export type Attack = (input: AttackInput, onProgress?: (p: AttackProgress) => void) => Promise<AttackOutput>;
