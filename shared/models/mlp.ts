/** Multi-layer perceptron: flatten → [Dense(width) → activation]* → Dense(classes). All with bias. */
import { tf, type Tensor, type Tensor4D, type Tensor2D } from '../tensor/tf';
import type { Rng } from '../random';
import { activate, dense, flattenBatch } from './layers';
import { initFlat, type InitScheme } from './init';
import type { Activation, ImageShape, Model, ParamSpec } from './types';

export interface MlpOptions {
  hidden: number[];
  activation: Activation;
  init?: InitScheme;
}

export function mlp(inputShape: ImageShape, numClasses: number, options: MlpOptions): Model {
  const widths = [inputShape[0] * inputShape[1] * inputShape[2], ...options.hidden, numClasses];
  const specs: ParamSpec[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    specs.push({ name: `dense${i + 1}/kernel`, shape: [widths[i], widths[i + 1]] });
    specs.push({ name: `dense${i + 1}/bias`, shape: [widths[i + 1]] });
  }
  const scheme: InitScheme = options.init ?? { kind: 'fan-in' };
  const layers = widths.length - 1;
  return {
    name: 'mlp',
    inputShape,
    numClasses,
    specs,
    logitLayer: { kernel: 2 * (layers - 1), bias: 2 * (layers - 1) + 1 },
    firstDenseLayer: { kernel: 0, bias: 1 },
    initParams: (rng: Rng) => initFlat(specs, scheme, rng),
    apply(p: readonly Tensor[], images: Tensor4D) {
      return tf.tidy(() => {
        let x: Tensor2D = flattenBatch(images);
        for (let i = 0; i < layers; i++) {
          x = dense(x, p[2 * i], p[2 * i + 1]);
          if (i + 1 < layers) x = activate(x, options.activation) as Tensor2D;
        }
        return x;
      });
    },
  };
}
