import { tf, type Tensor2D, type Tensor } from '../tensor/tf';
import { logSoftmax } from '../tensor/second-order-grads';

/**
 * Mean over the batch of −Σ target · log_softmax(logits): the client loss of the DLG paper.
 * Uses fedleak's twice-differentiable logSoftmax (tf.logSoftmax breaks double backprop).
 */
export function softCrossEntropy(logits: Tensor2D, targets: Tensor2D): Tensor {
  return tf.tidy(() => tf.mean(tf.sum(tf.mul(tf.neg(targets), logSoftmax(logits, 1)), 1)));
}

export function oneHot(labels: ArrayLike<number>, numClasses: number): Tensor2D {
  return tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), numClasses).toFloat() as Tensor2D;
}
