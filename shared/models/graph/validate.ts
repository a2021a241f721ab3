/**
 * Checks a model definition from an untrusted source (a server's `welcome`, a model file) and works
 * out what the interpreter needs: each layer's parsed config, input and output shapes and parameter
 * indices. Every fault is a ModelDefinitionError naming the layer (its name, index and op).
 */
import { z } from 'zod';
import { initSchema } from '../init';
import { isOpName, opSpec, OPS, type OpName, type Shape } from './ops';

export const MODEL_DEFINITION_FORMAT = 'fedleak-model/1';
/** The name layers use for the model's input. */
export const INPUT = 'input';
/** Upper bounds, so that a hostile definition cannot make a client allocate without limit. */
export const MAX_LAYERS = 1000;
export const MAX_PARAMS = 2 ** 28;

export class ModelDefinitionError extends Error {
  constructor(message: string) {
    super(`model definition: ${message}`);
    this.name = 'ModelDefinitionError';
  }
}

const positiveInt = z.number().int().positive();

export const paramSpecSchema = z.strictObject({
  name: z.string().min(1).max(256),
  shape: z.array(positiveInt).min(1).max(4),
});

export const layerNodeSchema = z.strictObject({
  /** Unique within the model; not "input". */
  name: z.string().min(1).max(256),
  /** One of the ops of shared/models/graph/ops.ts. */
  op: z.string().min(1).max(64),
  /** Names of the nodes feeding it, earlier in the list; "input" is the model's input. */
  inputs: z.array(z.string()).min(1).max(64),
  /** The op's settings (strides, padding, activation, …); see the op's schema. */
  config: z.record(z.string(), z.unknown()).default({}),
  /** Names of the ParamSpecs it uses, in the op's order (kernel, then bias). */
  params: z.array(z.string()).max(16).default([]),
});

export const modelDefinitionSchema = z.strictObject({
  format: z.literal(MODEL_DEFINITION_FORMAT),
  /** Shown in logs and reports ("lenet-zhu", a file name). */
  name: z.string().min(1).max(256).default('model'),
  /** Per example, NHWC: [height, width, channels]. */
  inputShape: z.tuple([positiveInt, positiveInt, positiveInt]),
  numClasses: z.number().int().min(2),
  /** In topological order; the last layer's output is the logits [numClasses]. */
  layers: z.array(layerNodeSchema).min(1).max(MAX_LAYERS),
  /** Trainable parameters in flatten (wire) order. */
  params: z.array(paramSpecSchema).max(4 * MAX_LAYERS),
  /** How fresh parameters are drawn (the server's initial model); fan-in when absent. */
  init: initSchema.optional(),
});

export type ModelDefinition = z.infer<typeof modelDefinitionSchema>;
export type LayerNode = z.infer<typeof layerNodeSchema>;

/** A validated layer, ready to run. */
export interface ResolvedLayer {
  node: LayerNode;
  op: OpName;
  config: unknown;
  /** Indices into `layers` of its inputs; −1 is the model input. */
  inputs: number[];
  inputShapes: Shape[];
  outputShape: Shape;
  /** Indices into `def.params` of its parameters, in the op's order. */
  params: number[];
}

function where(node: LayerNode, index: number): string {
  return `layer "${node.name}" (#${index}, op ${node.op})`;
}

function zodFaults(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Parses an untrusted object into a definition; `source` says where it came from, for the message. */
export function parseModelDefinition(raw: unknown, source: string): ModelDefinition {
  const parsed = modelDefinitionSchema.safeParse(raw);
  if (!parsed.success) throw new ModelDefinitionError(`${source}: ${zodFaults(parsed.error)}`);
  resolveLayers(parsed.data);
  return parsed.data;
}

function resolveInputs(
  node: LayerNode,
  index: number,
  positions: Map<string, number>,
  shapes: Shape[],
  def: ModelDefinition,
): { inputs: number[]; shapes: Shape[] } {
  const inputs = node.inputs.map((name) => {
    if (name === INPUT) return -1;
    const at = positions.get(name);
    if (at === undefined)
      throw new ModelDefinitionError(
        `${where(node, index)}: input "${name}" is not an earlier layer or "${INPUT}" (dangling or out of topological order)`,
      );
    return at;
  });
  return { inputs, shapes: inputs.map((i) => (i < 0 ? [...def.inputShape] : shapes[i])) };
}

function resolveParams(
  node: LayerNode,
  index: number,
  expected: { role: string; shape: number[] }[],
  paramIndex: Map<string, number>,
  used: Set<number>,
  def: ModelDefinition,
): number[] {
  if (node.params.length !== expected.length) {
    throw new ModelDefinitionError(
      `${where(node, index)}: needs ${expected.length} parameter(s) (${expected.map((e) => e.role).join(', ') || 'none'}), lists ${node.params.length}`,
    );
  }
  return expected.map((want, k) => {
    const name = node.params[k];
    const at = paramIndex.get(name);
    if (at === undefined) throw new ModelDefinitionError(`${where(node, index)}: parameter "${name}" is not in the definition's params`);
    if (used.has(at)) throw new ModelDefinitionError(`${where(node, index)}: parameter "${name}" is already used by another layer`);
    const got = def.params[at].shape;
    if (got.length !== want.shape.length || got.some((d, i) => d !== want.shape[i])) {
      throw new ModelDefinitionError(`${where(node, index)}: ${want.role} "${name}" has shape [${got}], the layer needs [${want.shape}]`);
    }
    used.add(at);
    return at;
  });
}

function resolveLayer(
  node: LayerNode,
  index: number,
  def: ModelDefinition,
  positions: Map<string, number>,
  shapes: Shape[],
  paramIndex: Map<string, number>,
  used: Set<number>,
): ResolvedLayer {
  if (!isOpName(node.op))
    throw new ModelDefinitionError(`${where(node, index)}: unknown op "${node.op}"; supported: ${Object.keys(OPS).join(', ')}`);
  const spec = opSpec(node.op);
  const parsed = spec.config.safeParse(node.config);
  if (!parsed.success) throw new ModelDefinitionError(`${where(node, index)}: config: ${zodFaults(parsed.error)}`);
  const arity = spec.inputs;
  if ('exact' in arity ? node.inputs.length !== arity.exact : node.inputs.length < arity.min) {
    throw new ModelDefinitionError(
      `${where(node, index)}: takes ${'exact' in arity ? arity.exact : `at least ${arity.min}`} input(s), has ${node.inputs.length}`,
    );
  }
  const ins = resolveInputs(node, index, positions, shapes, def);
  let outputShape: Shape;
  try {
    outputShape = spec.outputShape(parsed.data, ins.shapes);
  } catch (err) {
    throw new ModelDefinitionError(`${where(node, index)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const params = resolveParams(node, index, spec.params(parsed.data, ins.shapes), paramIndex, used, def);
  return { node, op: node.op, config: parsed.data, inputs: ins.inputs, inputShapes: ins.shapes, outputShape, params };
}

function paramIndexOf(def: ModelDefinition): Map<string, number> {
  const index = new Map<string, number>();
  let total = 0;
  def.params.forEach((p, i) => {
    if (index.has(p.name)) throw new ModelDefinitionError(`params: "${p.name}" is listed twice`);
    index.set(p.name, i);
    total += p.shape.reduce((a, b) => a * b, 1);
  });
  if (total > MAX_PARAMS) throw new ModelDefinitionError(`params: ${total} values, more than the limit of ${MAX_PARAMS}`);
  return index;
}

/** Validates the graph of a schema-valid definition and resolves every layer. */
export function resolveLayers(def: ModelDefinition): ResolvedLayer[] {
  const paramIndex = paramIndexOf(def);
  const positions = new Map<string, number>();
  const shapes: Shape[] = [];
  const used = new Set<number>();
  const layers = def.layers.map((node, i) => {
    if (node.name === INPUT || positions.has(node.name))
      throw new ModelDefinitionError(
        `${where(node, i)}: the name "${node.name}" is ${node.name === INPUT ? 'reserved for the model input' : 'used twice'}`,
      );
    const layer = resolveLayer(node, i, def, positions, shapes, paramIndex, used);
    positions.set(node.name, i);
    shapes.push(layer.outputShape);
    return layer;
  });
  const unused = def.params.find((_p, i) => !used.has(i));
  if (unused) throw new ModelDefinitionError(`params: "${unused.name}" is used by no layer`);
  checkOutput(def, layers);
  return layers;
}

function checkOutput(def: ModelDefinition, layers: ResolvedLayer[]): void {
  const last = layers[layers.length - 1];
  if (last.outputShape.length !== 1 || last.outputShape[0] !== def.numClasses) {
    throw new ModelDefinitionError(
      `${where(last.node, layers.length - 1)}: the last layer gives shape [${last.outputShape}] per example, the logits need [${def.numClasses}] (numClasses)`,
    );
  }
  // Every layer must feed the output: a dead branch is almost certainly a wrong input name.
  const live = new Set<number>([layers.length - 1]);
  for (let i = layers.length - 1; i >= 0; i--) if (live.has(i)) for (const j of layers[i].inputs) if (j >= 0) live.add(j);
  const dead = layers.findIndex((_l, i) => !live.has(i));
  if (dead >= 0)
    throw new ModelDefinitionError(
      `${where(layers[dead].node, dead)}: its output reaches no later layer (only the last layer's output is the model's)`,
    );
}
