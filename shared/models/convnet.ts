/**
 * A configurable conv net: [Conv(k×k, stride, padding) → activation → optional AvgPool 2×2]* →
 * flatten → [Dense(width) → activation]* → Dense(classes).
 */
import { tf, type Tensor, type Tensor4D, type Tensor2D } from '../tensor/tf';
import type { Rng } from '../random';
import { activate, conv, convOutputSize, dense, flattenBatch } from './layers';
import { initFlat, type InitScheme } from './init';
import type { Activation, ImageShape, Model, ParamSpec } from './types';

export interface ConvnetOptions {
  channels: number[];
  kernelSize: number;
  stride: number;
  padding: number;
  activation: Activation;
  pool: boolean;
  hidden: number[];
  init?: InitScheme;
}

export function convnet(inputShape: ImageShape, numClasses: number, options: ConvnetOptions): Model {
  const [h, w, c] = inputShape;
  const specs: ParamSpec[] = [];
  let oh = h;
  let ow = w;
  let inC = c;
  options.channels.forEach((outC, i) => {
    specs.push({ name: `conv${i + 1}/kernel`, shape: [options.kernelSize, options.kernelSize, inC, outC] });
    specs.push({ name: `conv${i + 1}/bias`, shape: [outC] });
    oh = convOutputSize(oh, options.kernelSize, options.stride, options.padding);
    ow = convOutputSize(ow, options.kernelSize, options.stride, options.padding);
    if (options.pool) {
      oh = Math.floor(oh / 2);
      ow = Math.floor(ow / 2);
    }
    if (oh < 1 || ow < 1) {
      throw new Error(`convnet: input ${h}×${w} is too small for ${options.channels.length} conv layers (layer ${i + 1} has no output)`);
    }
    inC = outC;
  });
  const widths = [oh * ow * inC, ...options.hidden, numClasses];
  for (let i = 0; i + 1 < widths.length; i++) {
    specs.push({ name: `dense${i + 1}/kernel`, shape: [widths[i], widths[i + 1]] });
    specs.push({ name: `dense${i + 1}/bias`, shape: [widths[i + 1]] });
  }
  const convCount = options.channels.length;
  const denseCount = widths.length - 1;
  const scheme: InitScheme = options.init ?? { kind: 'fan-in' };
  return {
    name: 'convnet',
    inputShape,
    numClasses,
    specs,
    logitLayer: { kernel: specs.length - 2, bias: specs.length - 1 },
    firstDenseLayer: null,
    initParams: (rng: Rng) => initFlat(specs, scheme, rng),
    apply(p: readonly Tensor[], images: Tensor4D) {
      return tf.tidy(() => {
        let x: Tensor4D = images;
        for (let i = 0; i < convCount; i++) {
          x = activate(conv(x, p[2 * i], p[2 * i + 1], options.stride, options.padding), options.activation) as Tensor4D;
          if (options.pool) x = tf.avgPool(x, 2, 2, 'valid');
        }
        let y: Tensor2D = flattenBatch(x);
        for (let j = 0; j < denseCount; j++) {
          const k = 2 * (convCount + j);
          y = dense(y, p[k], p[k + 1]);
          if (j + 1 < denseCount) y = activate(y, options.activation) as Tensor2D;
        }
        return y;
      });
    },
  };
}
