/**
 * Import of a tfjs LayersModel (`model.json` written by tfjs `model.save()` or by
 * `tensorflowjs_converter --input_format=keras`, plus its `*.bin` weight shards) as a fedleak model
 * definition and its parameters. Sequential and functional topologies; each tfjs layer class maps to
 * one op of shared/models/graph/ops.ts. A final softmax is dropped (fedleak models output logits,
 * the loss applies log-softmax), and recorded in `droppedSoftmax`. Parameters keep the weight
 * manifest's names and order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  INPUT,
  MODEL_DEFINITION_FORMAT,
  ModelDefinitionError,
  parseModelDefinition,
  resolveLayers,
  type LayerNode,
  type ModelDefinition,
} from '../graph/validate';
import { ACTIVATIONS, type ActivationName } from '../graph/activations';

export interface ImportedModel {
  definition: ModelDefinition;
  /** Flat float32 in `definition.params` order. */
  params: Float32Array;
  /** True when the model's last layer applied softmax, which the import removed. */
  droppedSoftmax: boolean;
}

interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

const SUPPORTED = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'Flatten',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'ZeroPadding2D',
  'Reshape',
  'Add',
  'Concatenate',
  'BatchNormalization',
  'Dropout',
  'Rescaling',
];

class ImportError extends ModelDefinitionError {}

function fail(where: string, message: string): never {
  throw new ImportError(`${where}: ${message}`);
}

function layerName(l: KerasLayer): string {
  return String(l.name ?? l.config.name ?? '');
}

/** tfjs-layers activation names (snake_case in model.json) → ours. */
function activationOf(value: unknown, where: string): ActivationName {
  const name = value === null || value === undefined ? 'linear' : String(value);
  const mapped = name === 'leaky_relu' ? 'leakyRelu' : name;
  if (!(ACTIVATIONS as readonly string[]).includes(mapped))
    fail(where, `activation "${name}" is not supported; supported: ${ACTIVATIONS.join(', ')}`);
  return mapped as ActivationName;
}

function pairOf(value: unknown, where: string, field: string): [number, number] {
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x > 0))
    fail(where, `${field} ${JSON.stringify(value)} is not two positive integers`);
  return [v[0] as number, v[1] as number];
}

/** ZeroPadding2D's padding: p, [ph, pw] or [[top, bottom], [left, right]]. */
function zeroPaddingOf(value: unknown, where: string): [[number, number], [number, number]] {
  const ok = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
  if (ok(value))
    return [
      [value, value],
      [value, value],
    ];
  if (Array.isArray(value) && value.length === 2 && value.every(ok))
    return [
      [value[0], value[0]],
      [value[1], value[1]],
    ];
  if (Array.isArray(value) && value.length === 2 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every(ok))) {
    return [value[0] as [number, number], value[1] as [number, number]];
  }
  return fail(where, `padding ${JSON.stringify(value)} is not p, [ph, pw] or [[top, bottom], [left, right]]`);
}

function requireChannelsLast(c: Record<string, unknown>, where: string): void {
  if (c.data_format !== undefined && c.data_format !== 'channels_last')
    fail(where, `data_format "${String(c.data_format)}" is not supported (channels_last only)`);
}

/** Dilation 1 only (as for Conv2D): fedleak's ops have no dilated convolutions. */
function requireNoDilation(c: Record<string, unknown>, where: string): void {
  const dilation = pairOf(c.dilation_rate ?? 1, where, 'dilation_rate');
  if (dilation[0] !== 1 || dilation[1] !== 1) fail(where, `dilation_rate [${dilation}] is not supported (1 only)`);
}

/** DepthwiseConv2D → depthwiseConv2d; its weights are "<layer>/depthwise_kernel" then "<layer>/bias". */
function depthwiseConv2dOf(c: Record<string, unknown>, where: string): { op: string; config: Record<string, unknown>; roles: string[] } {
  requireChannelsLast(c, where);
  requireNoDilation(c, where);
  const config = {
    kernelSize: pairOf(c.kernel_size, where, 'kernel_size'),
    strides: pairOf(c.strides ?? 1, where, 'strides'),
    padding: c.padding ?? 'valid',
    depthMultiplier: c.depth_multiplier ?? 1,
    useBias: c.use_bias !== false,
    activation: activationOf(c.activation, where),
  };
  return { op: 'depthwiseConv2d', config, roles: config.useBias ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel'] };
}

/** The activation layer classes, as the `activation` op. */
function activationLayerOf(
  className: string,
  c: Record<string, unknown>,
  where: string,
): { op: string; config: Record<string, unknown>; roles: string[] } {
  switch (className) {
    case 'ReLU':
      if (c.max_value !== undefined && c.max_value !== null) fail(where, 'ReLU with max_value is not supported');
      return { op: 'activation', config: { activation: 'relu' }, roles: [] };
    case 'LeakyReLU':
      return { op: 'activation', config: { activation: 'leakyRelu', alpha: typeof c.alpha === 'number' ? c.alpha : 0.3 }, roles: [] };
    case 'ELU':
      if (c.alpha !== undefined && c.alpha !== 1) fail(where, `ELU with alpha ${JSON.stringify(c.alpha)} is not supported (1 only)`);
      return { op: 'activation', config: { activation: 'elu' }, roles: [] };
    case 'Softmax':
      // The axis is checked against the input's rank once shapes are known (checkSoftmaxAxes).
      return { op: 'activation', config: { activation: 'softmax' }, roles: [] };
    default: // Activation
      return { op: 'activation', config: { activation: activationOf(c.activation, where) }, roles: [] };
  }
}

/** One keras layer as a fedleak op + config + parameter roles; null for InputLayer. */
function convertLayer(l: KerasLayer, where: string): { op: string; config: Record<string, unknown>; roles: string[] } | null {
  const c = l.config;
  switch (l.class_name) {
    case 'InputLayer':
      return null;
    case 'Dense':
      return {
        op: 'dense',
        config: { units: c.units, useBias: c.use_bias !== false, activation: activationOf(c.activation, where) },
        roles: c.use_bias !== false ? ['kernel', 'bias'] : ['kernel'],
      };
    case 'Conv2D': {
      requireChannelsLast(c, where);
      requireNoDilation(c, where);
      const config = {
        filters: c.filters,
        kernelSize: pairOf(c.kernel_size, where, 'kernel_size'),
        strides: pairOf(c.strides ?? 1, where, 'strides'),
        padding: c.padding ?? 'valid',
        useBias: c.use_bias !== false,
        activation: activationOf(c.activation, where),
      };
      return { op: 'conv2d', config, roles: config.useBias ? ['kernel', 'bias'] : ['kernel'] };
    }
    case 'DepthwiseConv2D':
      return depthwiseConv2dOf(c, where);
    case 'Flatten':
      return { op: 'flatten', config: {}, roles: [] };
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'Softmax':
      return activationLayerOf(l.class_name, c, where);
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      requireChannelsLast(c, where);
      const poolSize = pairOf(c.pool_size ?? 2, where, 'pool_size');
      const config = {
        poolSize,
        strides: c.strides === null || c.strides === undefined ? poolSize : pairOf(c.strides, where, 'strides'),
        padding: c.padding ?? 'valid',
      };
      return { op: l.class_name === 'MaxPooling2D' ? 'maxPool2d' : 'avgPool2d', config, roles: [] };
    }
    case 'GlobalAveragePooling2D':
      requireChannelsLast(c, where);
      if (c.keepdims === true) fail(where, 'keepdims is not supported');
      return { op: 'globalAvgPool2d', config: {}, roles: [] };
    case 'ZeroPadding2D':
      requireChannelsLast(c, where);
      return { op: 'zeroPadding2d', config: { padding: zeroPaddingOf(c.padding, where) }, roles: [] };
    case 'Reshape':
      return { op: 'reshape', config: { targetShape: c.target_shape }, roles: [] };
    case 'Add':
      return { op: 'add', config: {}, roles: [] };
    case 'Concatenate':
      if (c.axis !== undefined && c.axis !== -1 && c.axis !== 3)
        fail(where, `axis ${String(c.axis)} is not supported (the channel axis, -1, only)`);
      return { op: 'concatenate', config: {}, roles: [] };
    case 'BatchNormalization':
      return batchNormOf(c, where);
    case 'Dropout':
      if (c.noise_shape !== undefined && c.noise_shape !== null) fail(where, 'Dropout with noise_shape is not supported');
      return { op: 'dropout', config: { rate: c.rate }, roles: [] };
    case 'Rescaling':
      if (typeof c.scale !== 'number' || (c.offset !== undefined && c.offset !== null && typeof c.offset !== 'number'))
        fail(
          where,
          `scale ${JSON.stringify(c.scale)} and offset ${JSON.stringify(c.offset)} must be numbers (one per layer, not per channel)`,
        );
      return { op: 'rescaling', config: { scale: c.scale, offset: typeof c.offset === 'number' ? c.offset : 0 }, roles: [] };
    default:
      return fail(where, `layer class ${l.class_name} is not supported; supported: ${SUPPORTED.join(', ')}`);
  }
}

/** BatchNormalization on the channel axis; its weights in tfjs order: gamma, beta, moving_mean, moving_variance. */
function batchNormOf(c: Record<string, unknown>, where: string): { op: string; config: Record<string, unknown>; roles: string[] } {
  const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : c.axis;
  if (axis !== undefined && axis !== -1 && axis !== 3)
    fail(where, `axis ${JSON.stringify(c.axis)} is not supported (the channel axis, -1, only)`);
  for (const field of ['beta_constraint', 'gamma_constraint', 'beta_regularizer', 'gamma_regularizer'])
    if (c[field] !== undefined && c[field] !== null) fail(where, `${field} is not supported`);
  const center = c.center !== false;
  const scale = c.scale !== false;
  const config = { momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3, center, scale };
  return { op: 'batchNorm', config, roles: [...(scale ? ['gamma'] : []), ...(center ? ['beta'] : []), 'moving_mean', 'moving_variance'] };
}

/** Names of the layers feeding a functional layer (its first and only call). */
function inboundOf(l: KerasLayer, where: string): string[] {
  const nodes = l.inbound_nodes ?? [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1) fail(where, 'a layer called more than once (shared layer) is not supported');
  const node = nodes[0];
  if (!Array.isArray(node)) fail(where, 'inbound_nodes has an unknown layout');
  return node.map((entry) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') fail(where, 'inbound_nodes has an unknown layout');
    return entry[0] as string;
  });
}

function inputShapeOf(layers: KerasLayer[]): [number, number, number] {
  const first = layers.find((l) => Array.isArray(l.config.batch_input_shape));
  const shape = first?.config.batch_input_shape as (number | null)[] | undefined;
  if (!shape) fail('model.json', 'no layer declares batch_input_shape (the model input shape)');
  const dims = shape.slice(1);
  if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    fail(
      `model.json: input shape [${shape.join(', ')}]`,
      'fedleak models take images [height, width, channels]; start the model with an image input and a Flatten layer',
    );
  }
  return dims as [number, number, number];
}

interface Topology {
  layers: KerasLayer[];
  functional: boolean;
}

function topologyOf(modelTopology: unknown): Topology {
  const t = (modelTopology ?? {}) as { class_name?: string; config?: unknown; model_config?: unknown };
  // tensorflowjs_converter nests the keras model under model_config.
  const top = (t.model_config ?? t) as { class_name?: string; config?: { layers?: unknown } | unknown[] };
  const config = top.config;
  const layers = (Array.isArray(config) ? config : (config as { layers?: unknown })?.layers) as KerasLayer[] | undefined;
  if (!Array.isArray(layers) || layers.length === 0)
    fail('model.json', 'modelTopology has no layers (is this a tfjs LayersModel model.json?)');
  if (top.class_name !== 'Sequential' && top.class_name !== 'Model' && top.class_name !== 'Functional')
    fail('model.json', `model class ${String(top.class_name)} is not supported (Sequential or functional Model)`);
  return { layers, functional: top.class_name !== 'Sequential' };
}

/** The graph: one LayerNode per non-input layer, inputs resolved to fedleak names. */
function buildLayers(topo: Topology, weightNames: Set<string>): LayerNode[] {
  const inputNames = new Set<string>();
  const nodes: LayerNode[] = [];
  let previous = INPUT;
  topo.layers.forEach((l, i) => {
    const name = layerName(l);
    const where = `model.json layer "${name}" (#${i}, ${l.class_name})`;
    const converted = convertLayer(l, where);
    if (!converted) {
      inputNames.add(name);
      return;
    }
    const inbound = topo.functional ? inboundOf(l, where) : [previous];
    const inputs = inbound.map((n) => (inputNames.has(n) ? INPUT : n));
    const params = converted.roles.map((role) => `${name}/${role}`);
    for (const p of params) if (!weightNames.has(p)) fail(where, `weight "${p}" is not in the weights manifest`);
    nodes.push({ name, op: converted.op, inputs, config: converted.config, params });
    previous = name;
  });
  return nodes;
}

/** Removes a softmax the last layer applies; true when there was one. */
function dropFinalSoftmax(layers: LayerNode[]): boolean {
  const last = layers[layers.length - 1];
  if (last.config.activation !== 'softmax') return false;
  if (last.op === 'activation') {
    layers.pop();
    return true;
  }
  last.config = { ...last.config, activation: 'linear' };
  return true;
}

/** Builds the definition and parameters from the parts of a saved model (already read). */
export function importTfjsArtifacts(
  modelTopology: unknown,
  weightSpecs: readonly WeightSpec[],
  weightData: Uint8Array,
  name: string,
): ImportedModel {
  const topo = topologyOf(modelTopology);
  for (const w of weightSpecs) {
    if ((w.dtype ?? 'float32') !== 'float32') fail(`weight "${w.name}"`, `dtype ${String(w.dtype)} is not supported (float32 only)`);
    if (w.quantization) fail(`weight "${w.name}"`, 'quantized weights are not supported');
  }
  const layers = buildLayers(topo, new Set(weightSpecs.map((w) => w.name)));
  if (layers.length === 0) fail('model.json', 'the model has no layers besides its input');
  const droppedSoftmax = dropFinalSoftmax(layers);
  const outUnits = layers[layers.length - 1].config.units;
  const numClasses = typeof outUnits === 'number' ? outUnits : 0;
  if (numClasses < 2) fail('model.json', 'the last layer must be a Dense layer with at least 2 units (the class logits)');
  const total = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  if (weightData.byteLength !== 4 * total)
    fail('weights', `the shards hold ${weightData.byteLength} bytes, the manifest needs ${4 * total} (${total} float32 values)`);
  const params = new Float32Array(total);
  new Uint8Array(params.buffer).set(weightData);
  const raw: ModelDefinition = {
    format: MODEL_DEFINITION_FORMAT,
    name,
    inputShape: inputShapeOf(topo.layers),
    numClasses,
    layers,
    params: weightSpecs.map((w) => ({ name: w.name, shape: [...w.shape] })),
  };
  const definition = parseModelDefinition(raw, `imported ${name}`);
  checkSoftmaxAxes(topo.layers, definition);
  return { definition, params, droppedSoftmax };
}

/** A Softmax layer must act on the last axis of its input (tfjs writes 1 for a flat input, Keras −1). */
function checkSoftmaxAxes(kerasLayers: readonly KerasLayer[], definition: ModelDefinition): void {
  const resolved = new Map(resolveLayers(definition).map((l) => [l.node.name, l]));
  kerasLayers.forEach((l, i) => {
    if (l.class_name !== 'Softmax') return;
    const raw = Array.isArray(l.config.axis) && l.config.axis.length === 1 ? l.config.axis[0] : (l.config.axis ?? -1);
    const layer = resolved.get(layerName(l));
    const rank = (layer?.inputShapes[0].length ?? 1) + 1;
    if (raw !== -1 && raw !== rank - 1)
      fail(
        `model.json layer "${layerName(l)}" (#${i}, Softmax)`,
        `softmax over axis ${JSON.stringify(l.config.axis)} is not supported (the last axis, ${rank - 1}, only)`,
      );
  });
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ImportError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Reads `model.json` and the weight shards it lists (paths relative to it) with Node's fs. */
export function importTfjsLayersModel(modelJsonPath: string): ImportedModel {
  const json = readJson(modelJsonPath);
  const manifest = json.weightsManifest as { paths: string[]; weights: WeightSpec[] }[] | undefined;
  if (!Array.isArray(manifest)) fail(modelJsonPath, 'no weightsManifest (is this a tfjs LayersModel model.json?)');
  const dir = path.dirname(modelJsonPath);
  const shards = manifest.flatMap((group) =>
    group.paths.map((p) => {
      const file = path.join(dir, p);
      try {
        return fs.readFileSync(file);
      } catch (err) {
        return fail(`${modelJsonPath}: weight shard ${file}`, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }),
  );
  const specs = manifest.flatMap((group) => group.weights);
  return importTfjsArtifacts(json.modelTopology, specs, Buffer.concat(shards), path.basename(modelJsonPath));
}
