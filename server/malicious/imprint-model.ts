/**
 * The model a Robbing-the-Fed server sends: its honest model with an imprint block in front, as a
 * layer-graph definition (what travels to clients): flatten → Linear(N→k) + ReLU → Linear(k→N) →
 * reshape back to the image → the original graph. Clients see only a model; the bin boundaries stay
 * in the block's secrets.
 */
import { INPUT, type LayerNode, type ModelDefinition } from '../../shared/models/graph/validate';
import { modelFromDefinition } from '../../shared/models';
import type { Model } from '../../shared/models/types';
import type { Rng } from '../../shared/random';
import { imprintBlockParams, type ImprintBlock } from './imprint';

/** Number of parameter tensors the block adds before the wrapped model's own. */
export const IMPRINT_PARAM_TENSORS = 4;

const BLOCK_OUTPUT = 'imprint-reshape';

function blockLayers(def: ModelDefinition, block: ImprintBlock): LayerNode[] {
  const n = block.secrets.inputSize;
  return [
    { name: 'imprint-flatten', op: 'flatten', inputs: [INPUT], config: {}, params: [] },
    {
      name: 'imprint',
      op: 'dense',
      inputs: ['imprint-flatten'],
      config: { units: block.secrets.bins, activation: 'relu' },
      params: ['imprint/kernel', 'imprint/bias'],
    },
    { name: 'imprint-out', op: 'dense', inputs: ['imprint'], config: { units: n }, params: ['imprint-out/kernel', 'imprint-out/bias'] },
    { name: BLOCK_OUTPUT, op: 'reshape', inputs: ['imprint-out'], config: { targetShape: [...def.inputShape] }, params: [] },
  ];
}

/** `def` with the imprint block in front: its parameters come first in flatten order. */
export function withImprintDefinition(def: ModelDefinition, block: ImprintBlock): ModelDefinition {
  const [h, w, c] = def.inputShape;
  if (h * w * c !== block.secrets.inputSize) {
    throw new Error(
      `imprint: the block takes ${block.secrets.inputSize} inputs, the model's input [${def.inputShape.join(', ')}] has ${h * w * c}`,
    );
  }
  const taken = new Set(def.layers.map((l) => l.name));
  const clash = blockLayers(def, block).find((l) => taken.has(l.name));
  if (clash) throw new Error(`imprint: the model already has a layer named "${clash.name}"`);
  const rewired = def.layers.map((l) => ({ ...l, inputs: l.inputs.map((i) => (i === INPUT ? BLOCK_OUTPUT : i)) }));
  return {
    ...def,
    name: `imprint+${def.name}`,
    layers: [...blockLayers(def, block), ...rewired],
    params: [...block.specs.map((s) => ({ name: s.name, shape: [...s.shape] })), ...def.params],
  };
}

/** The differentiable model of `withImprintDefinition`; fresh parameters keep the block's crafted values. */
export function withImprintBlock(model: Model, block: ImprintBlock): Model {
  const inner = modelFromDefinition(withImprintDefinition(model.definition, block));
  return {
    ...inner,
    definition: inner.definition,
    logitDense: inner.logitDense,
    logitLayer: inner.logitLayer,
    firstDenseLayer: inner.firstDenseLayer,
    apply: (params, images, mode) => inner.apply(params, images, mode),
    initParams(rng: Rng): Float32Array {
      const blockParams = imprintBlockParams(block);
      const rest = model.initParams(rng);
      const out = new Float32Array(blockParams.length + rest.length);
      out.set(blockParams);
      out.set(rest, blockParams.length);
      return out;
    },
  };
}
