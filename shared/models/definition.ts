/**
 * The model as it travels: a serialisable definition (layer graph + parameter specs), the format
 * `welcome` / the round payload carry and the own-model import produces from a tfjs `model.json`.
 * Clients, attacks and captures build the model from a definition, never from a scenario name.
 *
 * INTERIM (architecture issue, step 1): `layers` is not interpreted yet; `builtin` names the
 * built-in builder. The graph interpreter replaces this and removes `builtin`.
 */
import type { ModelConfig } from './schema';
import { buildModel } from './index';
import type { ImageShape, Model, ParamSpec } from './types';

export const MODEL_DEFINITION_FORMAT = 'fedleak-model/1';

/** One node of the layer graph, in topological order. */
export interface LayerNode {
  /** Unique within the model. */
  name: string;
  /** Operation, e.g. "conv2d", "dense", "activation", "flatten". */
  op: string;
  /** Names of the nodes feeding it; "input" is the model's input. */
  inputs: string[];
  /** Operation settings (strides, padding, activation, …), plain JSON. */
  config: Record<string, unknown>;
  /** Names of the ParamSpecs it uses, in order. */
  params: string[];
}

export interface ModelDefinition {
  format: typeof MODEL_DEFINITION_FORMAT;
  inputShape: ImageShape;
  numClasses: number;
  layers: LayerNode[];
  /** Trainable parameters in flatten order (docs/models.md). */
  params: ParamSpec[];
  /** INTERIM: the built-in model this definition stands for. */
  builtin?: ModelConfig;
}

/** The definition of a built-in model (scenario `model`) on a task. */
export function definitionFor(config: ModelConfig, inputShape: ImageShape, numClasses: number): ModelDefinition {
  const model = buildModel(config, inputShape, numClasses);
  return { format: MODEL_DEFINITION_FORMAT, inputShape: [...inputShape] as ImageShape, numClasses, layers: [], params: model.specs.map((s) => ({ name: s.name, shape: [...s.shape] })), builtin: config };
}

/** Builds the differentiable model a definition describes. */
export function modelFromDefinition(def: ModelDefinition): Model {
  if (!def.builtin) throw new Error('model definition: layer graphs are not interpreted yet');
  return buildModel(def.builtin, def.inputShape, def.numClasses);
}
