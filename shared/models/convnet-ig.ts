/**
 * The ConvNet of Inverting Gradients (Geiping et al. 2020, `inversefed` ConvNet; breaching's
 * "ConvNet"): eight 3×3 convolutions (padding 1, with bias), each → batch norm → ReLU, with width
 * w, 2w, 2w, 4w | max-pool 3 | 4w, 4w, 4w, 4w | max-pool 3, then flatten → Dense(classes).
 * On 32×32 inputs the last feature map is 3×3×4w (36·w features, as in the paper's code).
 */
import { modelEntry } from './entry';
import { initField, widthField } from './fields';
import type { ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';
import type { InitScheme } from './init';
import { TORCH_BATCH_NORM } from './resnet';

const MULTIPLIERS = [1, 2, 2, 4, 'pool', 4, 4, 4, 4, 'pool'] as const;

export function convnetIgDefinition(inputShape: ImageShape, numClasses: number, o: { width: number; init?: InitScheme }): ModelDefinition {
  const g = new GraphBuilder('convnet-ig', inputShape, numClasses, o.init ?? { kind: 'fan-in' });
  let conv = 0;
  let pool = 0;
  for (const m of MULTIPLIERS) {
    if (m === 'pool') {
      g.add(`pool${pool++}`, 'maxPool2d', { poolSize: [3, 3], strides: [3, 3], padding: 'valid' });
      continue;
    }
    g.conv2d(`conv${conv}`, { filters: m * o.width, kernelSize: 3, stride: 1, padding: 1 });
    g.add(`bn${conv}`, 'batchNorm', { ...TORCH_BATCH_NORM });
    g.add(`relu${conv++}`, 'activation', { activation: 'relu' });
  }
  g.flatten('flatten');
  g.dense('linear', { units: numClasses });
  return g.build();
}

export const convnetIgModel = modelEntry(
  'convnet-ig',
  'the ConvNet of Inverting Gradients: 8 × [conv3×3 → BN → ReLU] (widths w,2w,2w,4w,4w…; w = width, default 64) with two 3×3 max-pools → Dense',
  { width: widthField, init: initField },
  (c, shape, k) => convnetIgDefinition(shape, k, { width: c.width ?? 64, init: c.init }),
);
