/**
 * Export of a model definition and its parameters as a tfjs LayersModel: `model.json` (the Keras
 * functional-model topology tfjs `model.save()` writes, plus the weight manifest) and one weight
 * shard, the counterpart of import/tfjs-layers.ts. Each op maps to Keras layers through one entry of
 * KERAS_EXPORTS; an op without an entry is one error naming the layer and the op. The exported model
 * outputs the logits, as fedleak models do (no softmax).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../../tensor/tf';
import type { ActivationName } from '../graph/activations';
import { opSpec, type OPS, type OpName, type OpSpec, type Shape } from '../graph/ops';
import { INPUT, resolveLayers, type ModelDefinition, type ResolvedLayer } from '../graph/validate';

/** One Keras layer standing for (part of) a fedleak layer. */
export interface KerasPiece {
  className: string;
  config: Record<string, unknown>;
  /** A helper layer before or after the main one, named "<layer>_<suffix>"; the piece without one takes the layer's name and weights. */
  suffix?: string;
}

/** How one op is written in Keras: its layers, chained in order. */
export interface KerasExport<C> {
  layers(config: C, inputShapes: readonly Shape[]): KerasPiece[];
  /** Keras names of the op's parameters in the op's order; default: the op's roles (kernel, bias). */
  weightNames?: (config: C) => string[];
}

type ConfigOf<K extends OpName> = (typeof OPS)[K] extends OpSpec<infer C> ? C : never;

export class ModelExportError extends Error {
  constructor(message: string) {
    super(`model export: ${message}`);
    this.name = 'ModelExportError';
  }
}

const CHANNELS_LAST = { data_format: 'channels_last' };

/** Keras has no fused leaky ReLU: it follows the layer as a LeakyReLU layer (tfjs's default slope 0.3). */
function withActivation(main: KerasPiece, activation: ActivationName): KerasPiece[] {
  if (activation !== 'leakyRelu') return [{ ...main, config: { ...main.config, activation } }];
  return [
    { ...main, config: { ...main.config, activation: 'linear' } },
    { className: 'LeakyReLU', config: { alpha: 0.3 }, suffix: 'act' },
  ];
}

/** PyTorch-style symmetric numeric padding has no Keras conv option: a ZeroPadding2D helper before a 'valid' conv. */
function paddingPieces(padding: number | string): KerasPiece[] {
  if (typeof padding !== 'number' || padding === 0) return [];
  const p = padding;
  const config = {
    padding: [
      [p, p],
      [p, p],
    ],
    ...CHANNELS_LAST,
  };
  return [{ className: 'ZeroPadding2D', config, suffix: 'pad' }];
}

function convPieces(c: ConfigOf<'conv2d'>): KerasPiece[] {
  const conv: KerasPiece = {
    className: 'Conv2D',
    config: {
      filters: c.filters,
      kernel_size: [...c.kernelSize],
      strides: [...c.strides],
      padding: typeof c.padding === 'number' ? 'valid' : c.padding,
      ...CHANNELS_LAST,
      dilation_rate: [1, 1],
      use_bias: c.useBias,
    },
  };
  return [...paddingPieces(c.padding), ...withActivation(conv, c.activation)];
}

function depthwisePieces(c: ConfigOf<'depthwiseConv2d'>): KerasPiece[] {
  const conv: KerasPiece = {
    className: 'DepthwiseConv2D',
    config: {
      kernel_size: [...c.kernelSize],
      strides: [...c.strides],
      padding: typeof c.padding === 'number' ? 'valid' : c.padding,
      depth_multiplier: c.depthMultiplier,
      ...CHANNELS_LAST,
      dilation_rate: [1, 1],
      use_bias: c.useBias,
    },
  };
  return [...paddingPieces(c.padding), ...withActivation(conv, c.activation)];
}

function poolPieces(className: string, c: { poolSize: [number, number]; strides?: [number, number]; padding: string }): KerasPiece[] {
  return [
    { className, config: { pool_size: [...c.poolSize], strides: [...(c.strides ?? c.poolSize)], padding: c.padding, ...CHANNELS_LAST } },
  ];
}

/** op name → its Keras layers. Adding an op: one entry (the importer maps the classes back). */
export const KERAS_EXPORTS: { [K in OpName]?: KerasExport<ConfigOf<K>> } = {
  conv2d: { layers: convPieces },
  dense: { layers: (c) => withActivation({ className: 'Dense', config: { units: c.units, use_bias: c.useBias } }, c.activation) },
  activation: {
    layers: (c) =>
      c.activation === 'leakyRelu'
        ? [{ className: 'LeakyReLU', config: { alpha: c.alpha ?? 0.3 } }]
        : [{ className: 'Activation', config: { activation: c.activation } }],
  },
  flatten: { layers: () => [{ className: 'Flatten', config: {} }] },
  maxPool2d: { layers: (c) => poolPieces('MaxPooling2D', c) },
  avgPool2d: { layers: (c) => poolPieces('AveragePooling2D', c) },
  globalAvgPool2d: { layers: () => [{ className: 'GlobalAveragePooling2D', config: { ...CHANNELS_LAST } }] },
  zeroPadding2d: { layers: (c) => [{ className: 'ZeroPadding2D', config: { padding: c.padding.map((p) => [...p]), ...CHANNELS_LAST } }] },
  reshape: { layers: (c) => [{ className: 'Reshape', config: { target_shape: [...c.targetShape] } }] },
  add: { layers: () => [{ className: 'Add', config: {} }] },
  concatenate: { layers: () => [{ className: 'Concatenate', config: { axis: -1 } }] },
  depthwiseConv2d: { layers: depthwisePieces },
  batchNorm: {
    layers: (c) => [
      { className: 'BatchNormalization', config: { axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale } },
    ],
  },
  dropout: { layers: (c) => [{ className: 'Dropout', config: { rate: c.rate } }] },
  rescaling: { layers: (c) => [{ className: 'Rescaling', config: { scale: c.scale, offset: c.offset } }] },
  // normalize (a scenario's data.normalize) has no weight-free Keras layer: export-model writes built-ins without it.
};

/** A layer of a Keras functional-model topology, as tfjs serialises it. */
export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** The `model.json` of a tfjs LayersModel saved to files. */
export interface TfjsModelJson {
  modelTopology: {
    class_name: 'Model';
    config: { name: string; layers: KerasLayerJson[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
    keras_version: string;
    backend: string;
  };
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
}

export const WEIGHT_SHARD = 'group1-shard1of1.bin';

/** Names the Keras layers get: the fedleak layer names, helpers "<layer>_<suffix>" made unique. */
class LayerNames {
  private readonly taken: Set<string>;
  constructor(def: ModelDefinition) {
    this.taken = new Set([INPUT, ...def.layers.map((l) => l.name)]);
  }
  helper(layer: string, suffix: string): string {
    let name = `${layer}_${suffix}`;
    for (let i = 1; this.taken.has(name); i++) name = `${layer}_${suffix}_${i}`;
    this.taken.add(name);
    return name;
  }
}

function exporterFor(layer: ResolvedLayer, index: number): KerasExport<unknown> {
  const entry = KERAS_EXPORTS[layer.op] as KerasExport<unknown> | undefined;
  if (!entry) {
    const known = Object.keys(KERAS_EXPORTS).join(', ');
    throw new ModelExportError(
      `layer "${layer.node.name}" (#${index}, op ${layer.op}): no Keras layer for op "${layer.op}"; exportable ops: ${known}`,
    );
  }
  return entry;
}

interface Converted {
  layers: KerasLayerJson[];
  /** def.params index → its Keras weight name. */
  weightNames: Map<number, string>;
}

function inbound(names: readonly string[]): KerasLayerJson['inbound_nodes'] {
  return [names.map((n): [string, number, number, Record<string, never>] => [n, 0, 0, {}])];
}

function convertLayers(def: ModelDefinition, inputName: string): Converted {
  const names = new LayerNames(def);
  const out: KerasLayerJson[] = [];
  const weightNames = new Map<number, string>();
  // A fedleak layer's output is its chain's last Keras layer (a helper such as "<layer>_act").
  const outputOf = new Map<string, string>([[INPUT, inputName]]);
  resolveLayers(def).forEach((layer, index) => {
    const entry = exporterFor(layer, index);
    let from = layer.node.inputs.map((n) => outputOf.get(n) ?? n);
    for (const piece of entry.layers(layer.config, layer.inputShapes)) {
      const name = piece.suffix ? names.helper(layer.node.name, piece.suffix) : layer.node.name;
      out.push({ name, class_name: piece.className, config: { ...piece.config, name, trainable: true }, inbound_nodes: inbound(from) });
      from = [name];
    }
    outputOf.set(layer.node.name, from[0]);
    const roles =
      entry.weightNames?.(layer.config) ??
      opSpec(layer.op)
        .params(layer.config, layer.inputShapes)
        .map((r) => r.role);
    layer.params.forEach((p, k) => weightNames.set(p, `${layer.node.name}/${roles[k]}`));
  });
  return { layers: out, weightNames };
}

/** The `model.json` (topology + manifest) of `def`; the weights go in WEIGHT_SHARD, in `def.params` order. */
export function tfjsModelJson(def: ModelDefinition, generatedBy: string): TfjsModelJson {
  const inputName = INPUT;
  const converted = convertLayers(def, inputName);
  const inputLayer: KerasLayerJson = {
    name: inputName,
    class_name: 'InputLayer',
    config: { batch_input_shape: [null, ...def.inputShape], dtype: 'float32', sparse: false, name: inputName },
    inbound_nodes: [],
  };
  const last = converted.layers[converted.layers.length - 1].name;
  return {
    modelTopology: {
      class_name: 'Model',
      config: {
        name: def.name,
        layers: [inputLayer, ...converted.layers],
        input_layers: [[inputName, 0, 0]],
        output_layers: [[last, 0, 0]],
      },
      keras_version: `tfjs-layers ${tf.version['tfjs-layers']}`,
      backend: 'tensor_flow.js',
    },
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
    weightsManifest: [
      {
        paths: [WEIGHT_SHARD],
        weights: def.params.map((p, i) => ({
          name: converted.weightNames.get(i) ?? p.name,
          shape: [...p.shape],
          dtype: 'float32' as const,
        })),
      },
    ],
  };
}

/** Writes `dir/model.json` and `dir/group1-shard1of1.bin` (float32 little-endian); returns their paths. */
export function writeTfjsLayersModel(dir: string, def: ModelDefinition, params: Float32Array, generatedBy: string): string[] {
  const total = def.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  if (params.length !== total) throw new ModelExportError(`${params.length} parameter values, the definition needs ${total}`);
  const json = tfjsModelJson(def, generatedBy);
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'model.json'), path.join(dir, WEIGHT_SHARD)];
  // Typed arrays use the platform's byte order; tfjs weight files are little-endian.
  const data = new Uint8Array(params.byteLength);
  const view = new DataView(data.buffer);
  params.forEach((v, i) => view.setFloat32(4 * i, v, true));
  fs.writeFileSync(files[0], `${JSON.stringify(json)}\n`);
  fs.writeFileSync(files[1], data);
  return files;
}
