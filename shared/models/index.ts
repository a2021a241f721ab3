/** Models: built-in definitions (builtins.ts), the layer-graph interpreter (graph/), parameters and loss. */
import type { ModelConfig } from './schema';
import { definitionFor, modelFromDefinition } from './definition';
import type { ImageShape, Model } from './types';
import type { Normalization } from '../data/normalize';

/** The model a scenario names, on a task (with its data.normalize layer): `modelFromDefinition(definitionFor(…))`. */
export function buildModel(config: ModelConfig, inputShape: ImageShape, numClasses: number, normalize?: Normalization): Model {
  return modelFromDefinition(definitionFor(config, inputShape, numClasses, normalize));
}

export * from './types';
export { TRAINING_FORWARD, INFERENCE_FORWARD } from './graph/forward-mode';
export type { ForwardMode, BatchStatistics } from './graph/forward-mode';
export {
  definitionFor,
  modelFromDefinition,
  stateParamsOf,
  ModelDefinitionError,
  parseModelDefinition,
  MODEL_DEFINITION_FORMAT,
} from './definition';
export type { ModelDefinition, LayerNode } from './definition';
export { initialParamsFor, modelConfigProblems } from './builtins';
export { flattenParams, unflattenParams, splitFlat } from './params';
export { resolveLayers } from './graph/validate';
export type { ResolvedLayer } from './graph/validate';
export { softCrossEntropy, oneHot } from './loss';
