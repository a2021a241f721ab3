/** Facts of the public training config both sides rely on (client training, server checks). */
import type { Algorithm, TrainingConfig, UpdateKind } from './contract';

/** What a client sends for an algorithm: fedsgd → a gradient, fedavg → θ_local − θ_global. */
export function updateKindFor(algorithm: Algorithm): UpdateKind {
  return algorithm === 'fedsgd' ? 'gradient' : 'weight-delta';
}

/**
 * The most distinct examples a client can use in one round (the bound on its declared weight):
 * fedsgd one batch, fedavg localSteps batches, or its whole shard (`shardSize`) when it trains epochs.
 */
export function examplesPerRound(
  t: Pick<TrainingConfig, 'algorithm' | 'batchSize' | 'localSteps' | 'localEpochs'>,
  shardSize: number,
): number {
  if (t.algorithm === 'fedsgd') return t.batchSize;
  return t.localEpochs > 0 ? shardSize : t.localSteps * t.batchSize;
}
