/**
 * Activations a layer graph may name, spelled as tfjs-layers spells them (`activation` of Dense,
 * Conv2D and Activation layers). Each is built from ops whose gradients stay correct under double
 * backprop (shared/tensor/second-order-grads.ts); test/model-graph.test.ts checks every one against
 * finite differences.
 */
import { z } from 'zod';
import { tf, type Tensor } from '../../tensor/tf';
import { logSoftmax } from '../../tensor/second-order-grads';

export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'tanh',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
  'gelu',
  'softmax',
  'leakyRelu',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];
export const activationNameSchema = z.enum(ACTIVATIONS);

// SELU constants (Klambauer et al. 2017), as tfjs-layers uses them.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** `alpha`: the negative slope of leakyRelu (tfjs LeakyReLU's default 0.3). */
export function applyActivation(x: Tensor, name: ActivationName, alpha = 0.3): Tensor {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.minimum(tf.relu(x), 6);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      // relu(x) + α(e^min(x,0) − 1): no tf.where, whose gradient tfjs cannot differentiate again.
      return tf.mul(SELU_SCALE, tf.add(tf.relu(x), tf.mul(SELU_ALPHA, tf.sub(tf.exp(tf.minimum(x, 0)), 1))));
    case 'softplus':
      return tf.softplus(x);
    case 'softsign':
      return tf.div(x, tf.add(1, tf.abs(x)));
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'gelu':
      // The exact form tfjs-layers uses: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    case 'softmax':
      return tf.exp(logSoftmax(x, -1));
    case 'leakyRelu':
      return tf.leakyRelu(x, alpha);
  }
}
