/**
 * Local training: the update a client computes from the global parameters and its batches.
 *  - fedsgd: ∇θ of the mean softCrossEntropy over the one batch, at θ_global ('gradient').
 *  - fedavg: θ ← θ − lr·∇θ L(batch_s) for each batch in order, then θ_local − θ_global ('weight-delta').
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { flattenParams, oneHot, softCrossEntropy, unflattenParams, type Model } from '../shared/models';
import { subset, type Dataset } from '../shared/data/types';

function batchTensors(shard: Dataset, indices: readonly number[]): { x: Tensor4D; y: Tensor2D } {
  const b = subset(shard, indices);
  const [h, w, c] = shard.shape;
  return { x: tf.tensor4d(b.images, [indices.length, h, w, c]), y: oneHot(b.labels, shard.numClasses) };
}

function gradients(model: Model, params: Tensor[], x: Tensor4D, y: Tensor2D): Tensor[] {
  return tf.grads((...ps: Tensor[]) => softCrossEntropy(model.apply(ps, x), y))(params);
}

export function computeUpdate(
  model: Model,
  globalParams: Float32Array,
  shard: Dataset,
  batches: readonly number[][],
  algorithm: 'fedsgd' | 'fedavg',
  learningRate: number,
): Float32Array {
  if (algorithm === 'fedsgd') {
    return tf.tidy(() => {
      const { x, y } = batchTensors(shard, batches[0]);
      return flattenParams(gradients(model, unflattenParams(globalParams, model.specs), x, y), model.specs);
    });
  }
  let params = unflattenParams(globalParams, model.specs);
  for (const batch of batches) {
    const next = tf.tidy(() => {
      const { x, y } = batchTensors(shard, batch);
      const g = gradients(model, params, x, y);
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
