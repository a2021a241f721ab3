/**
 * A definition as a table a person reads (`fedleak inspect-model`): each layer's op, inputs, output
 * shape and parameter count, and the totals. Derived from the validated graph, so the shapes are
 * the ones the interpreter computes.
 */
import { resolveLayers, type ModelDefinition } from './graph/validate';

export interface LayerSummary {
  name: string;
  op: string;
  /** Earlier layer names, or "input". */
  inputs: string[];
  /** Per example (no batch axis). */
  outputShape: number[];
  /** Values in the layer's parameter tensors. */
  params: number;
}

export interface ModelSummary {
  name: string;
  inputShape: [number, number, number];
  numClasses: number;
  layers: LayerSummary[];
  /** Parameter tensors, and the values they hold in all. */
  paramTensors: number;
  totalParams: number;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Throws a ModelDefinitionError naming the faulty layer when the definition does not validate. */
export function summarizeDefinition(def: ModelDefinition): ModelSummary {
  const layers = resolveLayers(def).map((l) => ({
    name: l.node.name,
    op: l.op,
    inputs: [...l.node.inputs],
    outputShape: [...l.outputShape],
    params: l.params.reduce((n, p) => n + size(def.params[p].shape), 0),
  }));
  return {
    name: def.name,
    inputShape: [...def.inputShape],
    numClasses: def.numClasses,
    layers,
    paramTensors: def.params.length,
    totalParams: def.params.reduce((n, p) => n + size(p.shape), 0),
  };
}
