/** Built-in models: scenario `model.name` → the definition it stands for on a task. One line per model. */
import type { ModelConfig } from './schema';
import { convnetDefinition } from './convnet';
import { lenetZhuDefinition } from './lenet-zhu';
import { mlpDefinition } from './mlp';
import type { ModelDefinition } from './graph/validate';
import type { ImageShape } from './types';

type DefinitionProducer = (config: ModelConfig, inputShape: ImageShape, numClasses: number) => ModelDefinition;

export const BUILTIN_MODELS: Record<ModelConfig['name'], DefinitionProducer> = {
  'lenet-zhu': (c, shape, k) => lenetZhuDefinition(shape, k, c.init),
  mlp: (c, shape, k) => mlpDefinition(shape, k, { hidden: c.hidden, activation: c.activation, init: c.init }),
  convnet: (c, shape, k) =>
    convnetDefinition(shape, k, {
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
