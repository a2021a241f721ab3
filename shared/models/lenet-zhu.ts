/**
 * LeNetZhu, the victim network of Deep Leakage from Gradients (Zhu et al. 2019):
 * 3 × [Conv 5×5 (12 filters; strides 2, 2, 1; padding 2) → sigmoid] → flatten → Dense(classes).
 * No pooling. All weights and biases U(−0.5, 0.5).
 */
import type { InitScheme } from './init';
import { modelEntry } from './entry';
import { initField } from './fields';
import type { ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';

const STRIDES = [2, 2, 1];

export function lenetZhuDefinition(inputShape: ImageShape, numClasses: number, init?: InitScheme): ModelDefinition {
  const g = new GraphBuilder('lenet-zhu', inputShape, numClasses, init ?? { kind: 'uniform', range: 0.5 });
  STRIDES.forEach((s, i) => g.conv2d(`conv${i + 1}`, { filters: 12, kernelSize: 5, stride: s, padding: 2, activation: 'sigmoid' }));
  g.flatten('flatten');
  g.dense('fc', { units: numClasses });
  return g.build();
}

export const lenetZhuModel = modelEntry(
  'lenet-zhu',
  "DLG's LeNetZhu: 3 × [Conv 5×5, 12 filters, padding 2, strides 2/2/1 → sigmoid] → Dense",
  { init: initField },
  (c, shape, k) => lenetZhuDefinition(shape, k, c.init),
);
