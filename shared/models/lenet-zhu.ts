/**
 * LeNetZhu, the victim network of Deep Leakage from Gradients (Zhu et al. 2019):
 * 3 × [Conv 5×5 (12 filters; strides 2, 2, 1; padding 2) → sigmoid] → flatten → Linear.
 * No pooling. All weights and biases U(−0.5, 0.5).
 */
import { tf, type Tensor, type Tensor4D } from '../tensor/tf';
import type { Rng } from '../random';
import { conv, convOutputSize, dense, flattenBatch } from './layers';
import { initFlat, type InitScheme } from './init';
import type { ImageShape, Model, ParamSpec } from './types';

const STRIDES = [2, 2, 1];

export function lenetZhu(inputShape: ImageShape, numClasses: number, init?: InitScheme): Model {
  const [h, w, c] = inputShape;
  let oh = h;
  let ow = w;
  for (const s of STRIDES) {
    oh = convOutputSize(oh, 5, s, 2);
    ow = convOutputSize(ow, 5, s, 2);
  }
  const specs: ParamSpec[] = [
    { name: 'conv1/kernel', shape: [5, 5, c, 12] },
    { name: 'conv1/bias', shape: [12] },
    { name: 'conv2/kernel', shape: [5, 5, 12, 12] },
    { name: 'conv2/bias', shape: [12] },
    { name: 'conv3/kernel', shape: [5, 5, 12, 12] },
    { name: 'conv3/bias', shape: [12] },
    { name: 'fc/kernel', shape: [12 * oh * ow, numClasses] },
    { name: 'fc/bias', shape: [numClasses] },
  ];
  const scheme: InitScheme = init ?? { kind: 'uniform', range: 0.5 };
  return {
    name: 'lenet-zhu',
    inputShape,
    numClasses,
    specs,
    logitLayer: { kernel: 6, bias: 7 },
    firstDenseLayer: null,
    initParams: (rng: Rng) => initFlat(specs, scheme, rng),
    apply(p: readonly Tensor[], images: Tensor4D) {
      return tf.tidy(() => {
        let x = images;
        for (let i = 0; i < 3; i++) x = tf.sigmoid(conv(x, p[2 * i], p[2 * i + 1], STRIDES[i], 2)) as Tensor4D;
        return dense(flattenBatch(x), p[6], p[7]);
      });
    },
  };
}
