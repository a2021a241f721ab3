/**
 * In-process training for the release module: the evaluation classifier, and models to release in
 * tools and tests. Plain minibatch SGD on the mean cross-entropy, shuffled each epoch from a seed.
 * (A federation's released model comes from `fedleak run`; this is not a federation.)
 */
import { tf, type Tensor, type Tensor4D } from '../../shared/tensor/tf';
import { flattenParams, oneHot, softCrossEntropy, INFERENCE_FORWARD, unflattenParams, type Model } from '../../shared/models';
import { exampleSize, type Dataset } from '../../shared/data';
import { Rng } from '../../shared/random';

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
}

function batchImages(data: Dataset, indices: readonly number[]): Float32Array {
  const size = exampleSize(data);
  const out = new Float32Array(indices.length * size);
  indices.forEach((i, j) => out.set(data.images.subarray(i * size, (i + 1) * size), j * size));
  return out;
}

export function trainClassifier(model: Model, data: Dataset, opts: TrainOptions): Float32Array {
  const rng = new Rng(opts.seed).fork('release-train');
  const init = model.initParams(rng.fork('init'));
  const variables = unflattenParams(init, model.specs).map((t) => {
    const v = tf.variable(t);
    t.dispose();
    return v;
  });
  const optimizer = tf.train.sgd(opts.learningRate);
  const n = data.labels.length;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let start = 0; start < n; start += opts.batchSize) {
      const idx = order.slice(start, start + opts.batchSize);
      tf.tidy(() => {
        const images = tf.tensor4d(batchImages(data, idx), [idx.length, ...data.shape]);
        const targets = oneHot(
          idx.map((i) => data.labels[i]),
          model.numClasses,
        );
        optimizer.minimize(() => softCrossEntropy(model.apply(variables, images), targets) as tf.Scalar, false, variables);
      });
    }
  }
  const flat = flattenParams(variables, model.specs);
  variables.forEach((v) => v.dispose());
  optimizer.dispose();
  return flat;
}

/** Predicted classes for flat NHWC images. */
export function predictLabels(model: Model, params: Float32Array | readonly Tensor[], images: Float32Array, count: number): Int32Array {
  const tensors = params instanceof Float32Array ? unflattenParams(params, model.specs) : params;
  const out = new Int32Array(count);
  const chunk = 500;
  for (let start = 0; start < count; start += chunk) {
    const m = Math.min(chunk, count - start);
    const size = images.length / count;
    const labels = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * size, (start + m) * size), [m, ...model.inputShape]) as Tensor4D;
      return tf.argMax(model.apply(tensors, x, INFERENCE_FORWARD), 1);
    });
    out.set(labels.dataSync() as Int32Array, start);
    labels.dispose();
  }
  if (params instanceof Float32Array) tensors.forEach((t) => t.dispose());
  return out;
}

export function accuracy(model: Model, params: Float32Array, data: Dataset): number {
  const predicted = predictLabels(model, params, data.images, data.labels.length);
  let right = 0;
  predicted.forEach((p, i) => (right += p === data.labels[i] ? 1 : 0));
  return right / data.labels.length;
}
