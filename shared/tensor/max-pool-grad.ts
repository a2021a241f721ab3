/**
 * The gradient of MaxPoolGrad, which tfjs-core lacks and double backprop through a max-pooling
 * network needs. MaxPoolGrad routes each output gradient dy to the argmax of its window; it is
 * linear in dy, so against an upstream G (shape of the pooled input) its dy-gradient reads G at each
 * window's argmax. Its input and output enter only through the argmax choice, which is piecewise
 * constant: their gradient is zero (almost everywhere, as for ReLU).
 */
import { tf, type Tensor, type Tensor4D } from './tf';

type Pair = [number, number] | number;

interface MaxPoolGradAttrs {
  filterSize: Pair;
  strides: Pair;
  pad: 'valid' | 'same' | number;
}

export const maxPoolGradGrad: tf.GradConfig = {
  kernelName: 'MaxPoolGrad',
  inputsToSave: ['dy', 'input', 'output'],
  gradFunc: (upstream: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = upstream as Tensor4D;
    const [dy, input, output] = saved as [Tensor4D, Tensor4D, Tensor4D];
    const { filterSize, strides, pad } = attrs as unknown as MaxPoolGradAttrs;
    return {
      dy: () => {
        // Same window scan and tie rule (first maximum) as the MaxPoolGrad kernel itself.
        const { result, indexes } = tf.maxPoolWithArgmax(input, filterSize, strides, pad, true);
        result.dispose();
        return tf.reshape(tf.gather(tf.reshape(g, [-1]), tf.reshape(indexes, [-1])), dy.shape);
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};
