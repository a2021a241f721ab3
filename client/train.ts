/**
 * Local training: the update a client computes from the global parameters and its batches.
 *  - fedsgd: ∇θ of the mean softCrossEntropy over the one batch, at θ_global ('gradient').
 *  - fedavg: θ ← θ − lr·∇θ L(batch_s) for each batch in order, then θ_local − θ_global ('weight-delta').
 * With weightDecay λ the loss is L + λ/2·‖θ‖², so every gradient gains λ·θ (federation.weightDecay).
 * Batch norm runs on batch statistics and moves its moving statistics (state, not trained) by its
 * momentum each step; dropout draws its masks from `dropoutSeed` (docs/models.md, "Training mode").
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { flattenParams, oneHot, softCrossEntropy, unflattenParams, type BatchStatistics, type Model } from '../shared/models';
import { subset, type Dataset } from '../shared/data/types';
import { parameterGrads } from '../shared/models/gradients';
import { Rng } from '../shared/random';

function batchTensors(shard: Dataset, indices: readonly number[]): { x: Tensor4D; y: Tensor2D } {
  const b = subset(shard, indices);
  const [h, w, c] = shard.shape;
  return { x: tf.tensor4d(b.images, [indices.length, h, w, c]), y: oneHot(b.labels, shard.numClasses) };
}

/** Each moving statistic after one step: m·momentum + batch·(1 − momentum); the variance unbiased, as PyTorch and Keras keep it. */
function movedState(params: readonly Tensor[], stats: readonly BatchStatistics[]): Map<number, Tensor> {
  const moved = new Map<number, Tensor>();
  for (const s of stats) {
    const unbiased = s.count > 1 ? tf.mul(s.variance, s.count / (s.count - 1)) : s.variance;
    const step = (index: number, batch: Tensor) => tf.add(tf.mul(params[index], s.momentum), tf.mul(batch, 1 - s.momentum));
    moved.set(s.movingMean, step(s.movingMean, s.mean));
    moved.set(s.movingVariance, step(s.movingVariance, unbiased));
  }
  return moved;
}

/** Gradients of the trainable parameters (state gets zero) and the moved state of the batch-norm layers. */
function trainingStep(
  model: Model,
  params: Tensor[],
  batch: { x: Tensor4D; y: Tensor2D },
  weightDecay: number,
  dropoutSeed: number | undefined,
): { grads: Tensor[]; moved: Map<number, Tensor> } {
  const stats: BatchStatistics[] = [];
  const mode = {
    batchNorm: 'batch' as const,
    ...(dropoutSeed !== undefined ? { dropoutSeed } : {}),
    onBatchStatistics: (s: BatchStatistics) => stats.push({ ...s, mean: tf.keep(s.mean), variance: tf.keep(s.variance) }),
  };
  const g = parameterGrads(model, (ps) => softCrossEntropy(model.apply(ps, batch.x, mode), batch.y), params);
  const isState = new Set(model.stateParams);
  const grads = weightDecay > 0 ? g.map((gi, i) => (isState.has(i) ? gi : tf.add(gi, tf.mul(weightDecay, params[i])))) : g;
  const moved = movedState(params, stats);
  tf.dispose(stats.flatMap((s) => [s.mean, s.variance]));
  return { grads, moved };
}

/** The dropout seed of local step `step` (absent when the client was given none). */
function stepSeed(dropoutSeed: number | undefined, step: number): number | undefined {
  return dropoutSeed === undefined ? undefined : new Rng(dropoutSeed).fork(`step-${step}`).nextUint32();
}

/** The seed of a client's dropout masks in a round: a named stream of the scenario seed, like its batches (docs/protocol.md). */
export function dropoutSeed(scenarioSeed: number, clientIndex: number, round: number): number {
  return new Rng(scenarioSeed).fork(`dropout/client-${clientIndex}/round-${round}`).nextUint32();
}

export interface TrainingOptions {
  weightDecay?: number;
  /** Seed of this round's dropout masks (models with dropout); dropout is the identity without it. */
  dropoutSeed?: number;
}

export function computeUpdate(
  model: Model,
  globalParams: Float32Array,
  shard: Dataset,
  batches: readonly number[][],
  algorithm: 'fedsgd' | 'fedavg',
  learningRate: number,
  options: TrainingOptions = {},
): Float32Array {
  const weightDecay = options.weightDecay ?? 0;
  if (algorithm === 'fedsgd') {
    return tf.tidy(() => {
      const params = unflattenParams(globalParams, model.specs);
      const { grads, moved } = trainingStep(model, params, batchTensors(shard, batches[0]), weightDecay, stepSeed(options.dropoutSeed, 0));
      // State travels in the gradient's units, so the server's θ − lr·g lands on the moved statistics.
      const update = grads.map((g, i) =>
        moved.has(i) && learningRate > 0 ? tf.div(tf.sub(params[i], moved.get(i) as Tensor), learningRate) : g,
      );
      return flattenParams(update, model.specs);
    });
  }
  let params = unflattenParams(globalParams, model.specs);
  batches.forEach((batch, step) => {
    const next = tf.tidy(() => {
      const { grads, moved } = trainingStep(model, params, batchTensors(shard, batch), weightDecay, stepSeed(options.dropoutSeed, step));
      return params.map((p, i) => moved.get(i) ?? tf.sub(p, tf.mul(learningRate, grads[i])));
    });
    tf.dispose(params);
    params = next;
  });
  const local = flattenParams(params, model.specs);
  tf.dispose(params);
  const delta = new Float32Array(local.length);
  for (let i = 0; i < local.length; i++) delta[i] = local[i] - globalParams[i];
  return delta;
}
