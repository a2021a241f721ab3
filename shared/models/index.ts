/** Model registry: scenario `model.name` → builder. Adding a model is one file plus one line here. */
import type { ModelConfig } from './schema';
import { convnet } from './convnet';
import { lenetZhu } from './lenet-zhu';
import { mlp } from './mlp';
import type { ImageShape, Model } from './types';

type ModelBuilder = (config: ModelConfig, inputShape: ImageShape, numClasses: number) => Model;

export const MODELS: Record<ModelConfig['name'], ModelBuilder> = {
  'lenet-zhu': (c, shape, k) => lenetZhu(shape, k, c.init),
  mlp: (c, shape, k) => mlp(shape, k, { hidden: c.hidden, activation: c.activation, init: c.init }),
  convnet: (c, shape, k) =>
    convnet(shape, k, {
      channels: c.channels,
      kernelSize: c.kernelSize,
      stride: c.stride,
      padding: c.padding,
      activation: c.activation,
      pool: c.pool,
      hidden: c.hidden,
      init: c.init,
    }),
};

export function buildModel(config: ModelConfig, inputShape: ImageShape, numClasses: number): Model {
  const builder = MODELS[config.name];
  if (!builder) throw new Error(`model.name: unknown model "${config.name}"; known: ${Object.keys(MODELS).join(', ')}`);
  return builder(config, inputShape, numClasses);
}

export * from './types';
export { flattenParams, unflattenParams, splitFlat } from './params';
export { softCrossEntropy, oneHot } from './loss';
