/**
 * The one contract for what crosses fedleak's boundaries, after breaching's three records
 * (server payload, shared data, true user data):
 *
 *  - `ServerPayload`  — what the server sends a client for a round: the round, the model *definition*
 *                       and its parameters, and the public training config.
 *  - `ObservedUpdate` — what the server received, exactly as received (after the client's own mods).
 *  - `TrueUserData`   — the examples a client really used. Evaluation channel only (opt-in, simulator):
 *                       scoring code may read it after an attack finished; attack code never sees it.
 *
 * Attacks take `(observed, payload, secrets?)`; `secrets` is what a malicious server planted in the
 * model it sent (bin boundaries, crafted rows) and keeps to itself. A capture on disk is exactly an
 * ObservedUpdate with its ServerPayload. Types only: no code on either side of the wire lives here.
 */
import type { ModelDefinition } from './models/definition';

/** fedsgd → ∇θ of the mean loss over one batch ('gradient'); fedavg → θ_local − θ_global ('weight-delta'). */
export type UpdateKind = 'gradient' | 'weight-delta';

/** 'plain': one client's update in the clear; 'masked': under secure aggregation; 'aggregate': the unmasked sum. */
export type UpdateView = 'plain' | 'masked' | 'aggregate';

export type Algorithm = 'fedsgd' | 'fedavg';

/** The public training configuration the server publishes with every round. */
export interface TrainingConfig {
  algorithm: Algorithm;
  batchSize: number;
  localSteps: number;
  /** fedavg: local epochs over the shard instead of localSteps batches, when > 0. */
  localEpochs: number;
  learningRate: number;
}

/** What the server sends for one round (and what an attack may assume the clients trained). */
export interface ServerPayload {
  /** 1-based round. */
  round: number;
  /** The model as the server defined it (clients build it from this, not from a name). */
  model: ModelDefinition;
  /** The global parameters broadcast this round, flat, in `model.params` order. */
  params: Float32Array;
  training: TrainingConfig;
}

/** What the server received, as received. */
export interface ObservedUpdate {
  round: number;
  /** Client id ("c0", …), or "aggregate" for the unmasked sum of a secure-aggregation round. */
  sender: string;
  kind: UpdateKind;
  /** Examples behind the update as declared (the aggregate: Σ of the contributors' counts). */
  numExamples: number;
  /** The decoded float32 vector, `model.params` order. */
  update: Float32Array;
  view: UpdateView;
  /** Size of the frame that carried it, bytes (0 when it did not arrive as one frame). */
  bytes: number;
  /** Clients behind an aggregate view (absent for plain and masked views). */
  contributors?: string[];
  /**
   * Set when the server itself clipped the update to this L2 norm before anyone looked at it
   * (server-side DP-FedAvg): the curious server then attacks the clipped update it aggregates.
   */
  serverClippedTo?: number;
}

/** The exact examples behind an update, in order. Never reachable from attack code. */
export interface TrueUserData {
  /** NHWC flat, [count, h, w, c], values in [0, 1] (pixel space). */
  images: Float32Array;
  labels: number[];
  count: number;
}

/** What a malicious server planted and keeps to itself (e.g. imprint bin boundaries). */
export type AttackSecrets = Readonly<Record<string, unknown>>;
