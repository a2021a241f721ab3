/**
 * The one import of TensorFlow.js in fedleak. Everything else imports `tf` from here so that the
 * backend chosen by initBackend() (and our registered gradients and kernels) apply everywhere.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
