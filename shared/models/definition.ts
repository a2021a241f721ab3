/**
 * The model as it travels: a serialisable definition (layer graph + parameter specs), the format
 * `welcome` carries and the own-model import produces from a tfjs `model.json` (docs/models.md,
 * "Model definitions"). Clients, attacks and captures build the model from a definition.
 */
import type { ModelConfig } from './schema';
import { builtinDefinition } from './builtins';
import { interpret } from './graph/interpret';
import { parseModelDefinition, type ModelDefinition } from './graph/validate';
import type { ImageShape, Model } from './types';
import type { Normalization } from '../data/normalize';
import { withInputNormalization } from './input-normalization';

export { MODEL_DEFINITION_FORMAT, ModelDefinitionError, parseModelDefinition, modelDefinitionSchema } from './graph/validate';
export type { LayerNode, ModelDefinition } from './graph/validate';

/**
 * The definition of the scenario's `model` on a task; with `normalize` (the scenario's
 * `data.normalize`) it starts with a normalize layer, for built-in and imported models alike.
 */
export function definitionFor(config: ModelConfig, inputShape: ImageShape, numClasses: number, normalize?: Normalization): ModelDefinition {
  return withInputNormalization(builtinDefinition(config, inputShape, numClasses), normalize);
}

/** Builds the differentiable model a definition describes; throws a ModelDefinitionError naming the faulty layer. */
export function modelFromDefinition(def: ModelDefinition): Model {
  return interpret(parseModelDefinition(def, `model "${def.name}"`));
}

const stateCache = new WeakMap<ModelDefinition, readonly number[]>();

/** Indices into `def.params` of state that is not trained by gradient (batch norm's moving statistics). */
export function stateParamsOf(def: ModelDefinition): readonly number[] {
  let state = stateCache.get(def);
  if (!state) {
    state = interpret(def).stateParams;
    stateCache.set(def, state);
  }
  return state;
}
