/**
 * Runs a layer graph: the differentiable `Model` a definition describes. The forward pass is a pure
 * function of the parameter tensors, so attacks can differentiate the parameter gradient again.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../../tensor/tf';
import type { Rng } from '../../random';
import { initFlat, type InitScheme, type ParamInitTrait } from '../init';
import type { DenseRef, Model } from '../types';
import { opSpec } from './ops';
import { TRAINING_FORWARD, type ForwardMode } from './forward-mode';
import { ModelDefinitionError, resolveLayers, type ModelDefinition, type ResolvedLayer } from './validate';

type LayerRef = DenseRef;

/** A dense layer with bias and no activation, as the last layer: the logits' kernel and bias. */
export function logitDenseOf(layers: readonly ResolvedLayer[]): LayerRef | null {
  const last = layers[layers.length - 1];
  const c = last.config as { useBias?: boolean; activation?: string };
  if (last.op !== 'dense' || !c.useBias || c.activation !== 'linear') return null;
  return { kernel: last.params[0], bias: last.params[1] };
}

/**
 * The first layer with parameters, when it is a dense layer with bias fed by the input through
 * flattens only: its bias gradient divides its kernel gradient into the input (the analytic attack).
 * A fused activation does not matter: both gradients are taken at the pre-activation output.
 */
export function firstDenseOf(layers: readonly ResolvedLayer[]): LayerRef | null {
  const first = layers.findIndex((l) => l.params.length > 0);
  if (first < 0 || layers[first].op !== 'dense' || layers[first].params.length !== 2) return null;
  for (let i = layers[first].inputs[0]; i >= 0; i = layers[i].inputs[0]) if (layers[i].op !== 'flatten') return null;
  return { kernel: layers[first].params[0], bias: layers[first].params[1] };
}

function forward(layers: readonly ResolvedLayer[], params: readonly Tensor[], images: Tensor4D, mode: ForwardMode): Tensor2D {
  const run = () => {
    const outputs: Tensor[] = [];
    layers.forEach((layer, layerIndex) => {
      const inputs = layer.inputs.map((i) => (i < 0 ? images : outputs[i]));
      const context = { mode, layerIndex, paramIndices: layer.params };
      outputs.push(
        opSpec(layer.op).apply(
          layer.config,
          inputs,
          layer.params.map((p) => params[p]),
          context,
        ),
      );
    });
    return outputs[outputs.length - 1] as Tensor2D;
  };
  return tf.tidy(run);
}

/** Per parameter: its constant initial value when the op fixes one, and whether it is state rather than trained. */
function roleTraits(layers: readonly ResolvedLayer[], count: number): { init: ParamInitTrait[]; state: number[] } {
  const init = Array.from({ length: count }, (): ParamInitTrait => ({}));
  const state: number[] = [];
  for (const layer of layers) {
    const roles = opSpec(layer.op).params(layer.config, layer.inputShapes);
    roles.forEach((role, k) => {
      init[layer.params[k]] = { fill: role.fill, fanIn: role.fanIn };
      if (role.state) state.push(layer.params[k]);
    });
  }
  return { init, state: state.sort((a, b) => a - b) };
}

/** Builds the model a (schema-valid) definition describes; throws ModelDefinitionError naming the faulty layer. */
export function interpret(def: ModelDefinition): Model {
  const layers = resolveLayers(def);
  const specs = def.params.map((p) => ({ name: p.name, shape: [...p.shape] }));
  const scheme: InitScheme = def.init ?? { kind: 'fan-in' };
  const logitDense = logitDenseOf(layers);
  const traits = roleTraits(layers, specs.length);
  return {
    name: def.name,
    inputShape: [...def.inputShape],
    numClasses: def.numClasses,
    specs,
    definition: def,
    stateParams: traits.state,
    apply: (params, images, mode = TRAINING_FORWARD) => forward(layers, params, images, mode),
    initParams: (rng: Rng) => initFlat(specs, scheme, rng, traits.init),
    logitDense,
    get logitLayer(): LayerRef {
      if (!logitDense)
        throw new ModelDefinitionError(
          `model "${def.name}" does not end in a dense layer with bias and linear activation, so it has no logit layer (the label rules of iDLG need one)`,
        );
      return logitDense;
    },
    firstDenseLayer: firstDenseOf(layers),
  };
}
