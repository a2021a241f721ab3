/**
 * FedSGD and FedAvg: broadcast θ with the public training config, then step by the example-weighted
 * mean of the updates (server/coordinator/aggregate.ts):
 *  - fedsgd (updates are gradients):  θ ← θ − lr · Σ nᵢ gᵢ / Σ nᵢ
 *  - fedavg (updates are θ_local − θ): θ ← θ + Σ nᵢ Δᵢ / Σ nᵢ
 */
import type { TrainingConfig } from '../../shared/contract';
import type { ModelDefinition } from '../../shared/models/definition';
import { applyAggregate, weightedMean } from '../coordinator/aggregate';
import { plainView } from './observed';
import { broadcastPlan, roundPayload } from './payload';
import type { Strategy } from './types';

export interface FedMeanOptions {
  model: ModelDefinition;
  training: TrainingConfig;
  /** round.start.timeoutMs: how long the server waits for updates. */
  roundTimeoutMs: number;
}

export function fedMeanStrategy(options: FedMeanOptions): Strategy {
  const { model, training } = options;
  const applyMean = (globalParams: Float32Array, mean: Float32Array) =>
    applyAggregate(globalParams, mean, training.algorithm, training.learningRate);
  return {
    name: training.algorithm,
    configure: ({ round, globalParams, selected }) =>
      broadcastPlan(roundPayload(round, model, globalParams, training), selected, options.roundTimeoutMs),
    aggregate: ({ globalParams }, plan, updates) => ({
      params: applyMean(globalParams, weightedMean(updates)),
      observed: updates.map((u) => plainView(u, plan.payload)),
    }),
    applyMean,
  };
}
