/**
 * FedSGD and FedAvg: broadcast θ with the public training config, then step by the example-weighted
 * mean of the updates (server/coordinator/aggregate.ts), or by a robust rule's combination
 * (federation.aggregation, server/strategy/aggregation):
 *  - fedsgd (updates are gradients):  θ ← θ − lr · Σ nᵢ gᵢ / Σ nᵢ
 *  - fedavg (updates are θ_local − θ): θ ← θ + Σ nᵢ Δᵢ / Σ nᵢ
 */
import type { TrainingConfig } from '../../shared/contract';
import type { ModelDefinition } from '../../shared/models/definition';
import { applyAggregate } from '../coordinator/aggregate';
import { mean } from './aggregation/mean';
import type { AggregationRule } from './aggregation/types';
import { plainView } from './observed';
import { broadcastPlan, roundPayload } from './payload';
import type { Strategy } from './types';

export interface FedMeanOptions {
  model: ModelDefinition;
  training: TrainingConfig;
  /** round.start.timeoutMs: how long the server waits for updates. */
  roundTimeoutMs: number;
  /** How the updates are combined (federation.aggregation); default the example-weighted mean. */
  rule?: AggregationRule;
  /** Its name in the strategy's name, e.g. "median". */
  ruleName?: string;
}

export function fedMeanStrategy(options: FedMeanOptions): Strategy {
  const { model, training } = options;
  const applyMean = (globalParams: Float32Array, mean: Float32Array) =>
    applyAggregate(globalParams, mean, training.algorithm, training.learningRate);
  const rule = options.rule ?? mean.create({ name: 'mean' });
  return {
    name: options.ruleName && options.ruleName !== 'mean' ? `${training.algorithm}/${options.ruleName}` : training.algorithm,
    configure: ({ round, globalParams, selected }) =>
      broadcastPlan(roundPayload(round, model, globalParams, training), selected, options.roundTimeoutMs),
    aggregate: ({ globalParams }, plan, updates) => {
      const combined = rule(updates);
      return {
        params: applyMean(globalParams, combined.mean),
        observed: updates.map((u) => plainView(u, plan.payload)),
        adjustments: combined.adjustments,
      };
    },
    applyMean,
  };
}
