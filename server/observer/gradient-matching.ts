/**
 * Building blocks shared by the gradient-matching attacks (DLG, iDLG, Inverting Gradients) and the
 * kernel benchmark: the parameter gradient of the client loss, as a differentiable function of the
 * input and label, and the distances between two gradient lists.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../../shared/tensor/tf';
import { softCrossEntropy } from '../../shared/models/loss';
import type { Model } from '../../shared/models/types';
import { parameterGrads } from '../../shared/models/gradients';
import { softCrossEntropyFused, squaredDistance } from '../../shared/tensor/fast-kernels/fused';

/**
 * ∇θ softCE(model(images; θ), targets) — differentiable again w.r.t. images and targets. The loss
 * is one fused kernel on the cpu backend (shared/tensor/fast-kernels/fused.ts), the same function
 * as shared/models/loss elsewhere.
 */
export function parameterGradients(model: Model, params: readonly Tensor[], images: Tensor4D, targets: Tensor2D): Tensor[] {
  const loss = (logits: Tensor2D): Tensor => softCrossEntropyFused(logits, targets) ?? softCrossEntropy(logits, targets);
  return parameterGrads(model, (ps) => loss(model.apply(ps, images)), params);
}

/**
 * DLG: Σ over tensors of Σ (g − g*)². One fused kernel per tensor on the cpu backend (its
 * gradient is one kernel too, instead of SquaredDifference + Sum and five kernels backward).
 */
export function squaredGradientDistance(dummy: readonly Tensor[], target: readonly Tensor[]): Tensor {
  return tf.tidy(() => tf.addN(dummy.map((g, i) => squaredDistance(g, target[i]))));
}

/** Inverting Gradients: 1 − cos(g, g*) over the whole concatenated gradient. */
export function cosineGradientDistance(dummy: readonly Tensor[], target: readonly Tensor[], targetNormSq?: Tensor): Tensor {
  return tf.tidy(() => {
    const dot = tf.addN(dummy.map((g, i) => tf.sum(tf.mul(g, target[i]))));
    const dn = tf.addN(dummy.map((g) => tf.sum(tf.square(g))));
    const tn = targetNormSq ?? tf.addN(target.map((g) => tf.sum(tf.square(g))));
    return tf.sub(1, tf.div(dot, tf.sqrt(tf.mul(dn, tn))));
  });
}
