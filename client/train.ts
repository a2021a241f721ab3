/**
 * Local training: the update a client computes from the global parameters and its batches.
 *  - fedsgd: ∇θ of the mean softCrossEntropy over the one batch, at θ_global ('gradient').
 *  - fedavg: θ ← θ − lr·∇θ L(batch_s) for each batch in order, then θ_local − θ_global ('weight-delta').
 * With weightDecay λ the loss is L + λ/2·‖θ‖², so every gradient gains λ·θ (federation.weightDecay).
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { flattenParams, oneHot, softCrossEntropy, unflattenParams, type Model } from '../shared/models';
import { subset, type Dataset } from '../shared/data/types';

function batchTensors(shard: Dataset, indices: readonly number[]): { x: Tensor4D; y: Tensor2D } {
  const b = subset(shard, indices);
  const [h, w, c] = shard.shape;
  return { x: tf.tensor4d(b.images, [indices.length, h, w, c]), y: oneHot(b.labels, shard.numClasses) };
}

function gradients(model: Model, params: Tensor[], x: Tensor4D, y: Tensor2D, weightDecay: number): Tensor[] {
  const g = tf.grads((...ps: Tensor[]) => softCrossEntropy(model.apply(ps, x), y))(params);
  return weightDecay > 0 ? g.map((gi, i) => tf.add(gi, tf.mul(weightDecay, params[i]))) : g;
}

export function computeUpdate(
  model: Model,
  globalParams: Float32Array,
  shard: Dataset,
  batches: readonly number[][],
  algorithm: 'fedsgd' | 'fedavg',
  learningRate: number,
  weightDecay = 0,
): Float32Array {
  if (algorithm === 'fedsgd') {
    return tf.tidy(() => {
      const { x, y } = batchTensors(shard, batches[0]);
      return flattenParams(gradients(model, unflattenParams(globalParams, model.specs), x, y, weightDecay), model.specs);
    });
  }
  let params = unflattenParams(globalParams, model.specs);
  for (const batch of batches) {
    const next = tf.tidy(() => {
      const { x, y } = batchTensors(shard, batch);
      const g = gradients(model, params, x, y, weightDecay);
      return params.map((p, i) => tf.sub(p, tf.mul(learningRate, g[i])));
    });
    tf.dispose(params);
    params = next;
  }
  const local = flattenParams(params, model.specs);
  tf.dispose(params);
  const delta = new Float32Array(local.length);
  for (let i = 0; i < local.length; i++) delta[i] = local[i] - globalParams[i];
  return delta;
}
