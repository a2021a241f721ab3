/**
 * The operations of a layer graph, one entry per op: its config schema, the tfjs-layers classes it
 * stands for (what the model.json importer maps), the parameters it needs, its output shape and its
 * forward computation. Shapes are per example (no batch axis), NHWC. Adding an op: one entry here
 * plus a finite-difference check of its second-order gradients (test/model-graph.test.ts).
 */
import { z } from 'zod';
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../../tensor/tf';
import { Rng } from '../../random';
import { activationNameSchema, applyActivation } from './activations';
import type { OpContext } from './forward-mode';

export type Shape = number[];

/** One parameter an op expects: its role ("kernel", "bias") and shape. */
export interface ParamRole {
  role: string;
  shape: number[];
  /** A constant initial value (batch norm's gamma 1, beta 0, …) instead of the model's init scheme. */
  fill?: number;
  /** The fan-in of a kernel when it is not kh·kw·inC (a depthwise kernel: kh·kw, as PyTorch counts a grouped conv). */
  fanIn?: number;
  /** Not trained by gradient: state the op keeps (batch norm's moving statistics); it still travels in the parameter vector. */
  state?: true;
}

export interface OpSpec<C> {
  /** tfjs-layers class names this op implements (for the model.json importer and error messages). */
  readonly tfjsClasses: readonly string[];
  readonly config: z.ZodType<C>;
  /** How many inputs: an exact count, or at least `min` for merges. */
  readonly inputs: { exact: number } | { min: number };
  params(config: C, inputs: readonly Shape[]): ParamRole[];
  /** Throws a plain Error saying what does not fit; the validator names the layer. */
  outputShape(config: C, inputs: readonly Shape[]): Shape;
  apply(config: C, inputs: readonly Tensor[], params: readonly Tensor[], context: OpContext): Tensor;
}

const positiveInt = z.number().int().positive();
const pair = z.tuple([positiveInt, positiveInt]);
const activationField = activationNameSchema.default('linear');

function expectRank(shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank) throw new Error(`expects ${what} (rank ${rank} per example), got shape [${shape}]`);
}

/** Output length along one axis, as tfjs computes it for 'valid', 'same' and symmetric numeric padding. */
export function windowOutputSize(size: number, window: number, stride: number, padding: 'valid' | 'same' | number): number {
  if (padding === 'same') return Math.ceil(size / stride);
  const pad = padding === 'valid' ? 0 : padding;
  return Math.floor((size + 2 * pad - window) / stride) + 1;
}

function windowedShape(
  input: Shape,
  window: [number, number],
  strides: [number, number],
  padding: 'valid' | 'same' | number,
  channels: number,
): Shape {
  const oh = windowOutputSize(input[0], window[0], strides[0], padding);
  const ow = windowOutputSize(input[1], window[1], strides[1], padding);
  if (oh < 1 || ow < 1) throw new Error(`input ${input[0]}×${input[1]} is too small for window ${window[0]}×${window[1]} (no output)`);
  return [oh, ow, channels];
}

const conv2dConfig = z.strictObject({
  filters: positiveInt,
  kernelSize: pair,
  strides: pair.default([1, 1]),
  /** 'valid', 'same' (tfjs), or a symmetric count of zero rows/columns on each side (PyTorch `padding=p`). */
  padding: z.union([z.enum(['valid', 'same']), z.number().int().nonnegative()]).default('valid'),
  useBias: z.boolean().default(true),
  activation: activationField,
});

const conv2d: OpSpec<z.infer<typeof conv2dConfig>> = {
  tfjsClasses: ['Conv2D'],
  config: conv2dConfig,
  inputs: { exact: 1 },
  params: (c, [x]) => [
    { role: 'kernel', shape: [c.kernelSize[0], c.kernelSize[1], x[2], c.filters] },
    ...(c.useBias ? [{ role: 'bias', shape: [c.filters] }] : []),
  ],
  outputShape(c, [x]) {
    expectRank(x, 3, 'an image [height, width, channels]');
    return windowedShape(x, c.kernelSize, c.strides, c.padding, c.filters);
  },
  apply(c, [x], [kernel, bias]) {
    const strides: [number, number] | number = c.strides[0] === c.strides[1] ? c.strides[0] : c.strides;
    let y: Tensor = tf.conv2d(x as Tensor4D, kernel as Tensor4D, strides, c.padding);
    if (bias) y = tf.add(y, bias);
    return applyActivation(y, c.activation);
  },
};

const depthwiseConv2dConfig = z.strictObject({
  kernelSize: pair,
  strides: pair.default([1, 1]),
  /** As conv2d: 'valid', 'same', or a symmetric count of zero rows/columns on each side. */
  padding: z.union([z.enum(['valid', 'same']), z.number().int().nonnegative()]).default('valid'),
  /** Output channels per input channel. */
  depthMultiplier: positiveInt.default(1),
  useBias: z.boolean().default(true),
  activation: activationField,
});

/**
 * One kh×kw filter per input channel and multiplier (no mixing across channels); output channel
 * c·depthMultiplier + m. Parameters in tfjs `getWeights()` order: depthwise kernel, then bias.
 */
const depthwiseConv2d: OpSpec<z.infer<typeof depthwiseConv2dConfig>> = {
  tfjsClasses: ['DepthwiseConv2D'],
  config: depthwiseConv2dConfig,
  inputs: { exact: 1 },
  params: (c, [x]) => [
    {
      role: 'depthwise_kernel',
      shape: [c.kernelSize[0], c.kernelSize[1], x[2], c.depthMultiplier],
      fanIn: c.kernelSize[0] * c.kernelSize[1],
    },
    ...(c.useBias ? [{ role: 'bias', shape: [x[2] * c.depthMultiplier] }] : []),
  ],
  outputShape(c, [x]) {
    expectRank(x, 3, 'an image [height, width, channels]');
    return windowedShape(x, c.kernelSize, c.strides, c.padding, x[2] * c.depthMultiplier);
  },
  apply(c, [x], [kernel, bias]) {
    // Unequal strides are fine: tfjs only forbids strides > 1 together with dilation > 1.
    let y: Tensor = tf.depthwiseConv2d(x as Tensor4D, kernel as Tensor4D, c.strides, c.padding);
    if (bias) y = tf.add(y, bias);
    return applyActivation(y, c.activation);
  },
};

const denseConfig = z.strictObject({ units: positiveInt, useBias: z.boolean().default(true), activation: activationField });

const dense: OpSpec<z.infer<typeof denseConfig>> = {
  tfjsClasses: ['Dense'],
  config: denseConfig,
  inputs: { exact: 1 },
  params: (c, [x]) => [{ role: 'kernel', shape: [x[0], c.units] }, ...(c.useBias ? [{ role: 'bias', shape: [c.units] }] : [])],
  outputShape(c, [x]) {
    expectRank(x, 1, 'a flat vector (add a flatten layer before it)');
    return [c.units];
  },
  apply(c, [x], [kernel, bias]) {
    let y: Tensor = tf.matMul(x as Tensor2D, kernel as Tensor2D);
    if (bias) y = tf.add(y, bias);
    return applyActivation(y, c.activation);
  },
};

const activationConfig = z.strictObject({ activation: activationNameSchema, alpha: z.number().nonnegative().optional() });

const activation: OpSpec<z.infer<typeof activationConfig>> = {
  tfjsClasses: ['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax'],
  config: activationConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape: (_c, [x]) => x,
  apply: (c, [x]) => applyActivation(x, c.activation, c.alpha),
};

const flattenConfig = z.strictObject({});

const flatten: OpSpec<z.infer<typeof flattenConfig>> = {
  tfjsClasses: ['Flatten'],
  config: flattenConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape: (_c, [x]) => [x.reduce((a, b) => a * b, 1)],
  // NHWC examples flatten in (height, width, channel) order, as tfjs Flatten does.
  apply: (_c, [x]) => tf.reshape(x, [x.shape[0], -1]),
};

function poolConfigSchema(paddings: readonly ['valid', ...('valid' | 'same')[]]) {
  return z.strictObject({
    poolSize: pair.default([2, 2]),
    /** Defaults to poolSize, as in tfjs-layers. */
    strides: pair.optional(),
    padding: z.enum(paddings).default('valid'),
  });
}
type PoolConfig = { poolSize: [number, number]; strides?: [number, number]; padding: 'valid' | 'same' };

/**
 * avgPool2d allows only 'valid': with 'same', tfjs's AvgPool divides border windows by the pixels
 * inside the image while its AvgPoolGrad divides by the full window, so the gradient is wrong there.
 */
function pool(kind: 'max' | 'avg'): OpSpec<PoolConfig> {
  return {
    tfjsClasses: [kind === 'max' ? 'MaxPooling2D' : 'AveragePooling2D'],
    config: kind === 'max' ? poolConfigSchema(['valid', 'same']) : poolConfigSchema(['valid']),
    inputs: { exact: 1 },
    params: () => [],
    outputShape(c, [x]) {
      expectRank(x, 3, 'an image [height, width, channels]');
      return windowedShape(x, c.poolSize, c.strides ?? c.poolSize, c.padding, x[2]);
    },
    apply(c, [x]) {
      const s = c.strides ?? c.poolSize;
      const size: [number, number] | number = c.poolSize[0] === c.poolSize[1] ? c.poolSize[0] : c.poolSize;
      const strides: [number, number] | number = s[0] === s[1] ? s[0] : s;
      return kind === 'max' ? tf.maxPool(x as Tensor4D, size, strides, c.padding) : tf.avgPool(x as Tensor4D, size, strides, c.padding);
    },
  };
}

const addConfig = z.strictObject({});

const add: OpSpec<z.infer<typeof addConfig>> = {
  tfjsClasses: ['Add'],
  config: addConfig,
  inputs: { min: 2 },
  params: () => [],
  outputShape(_c, xs) {
    const bad = xs.find((s) => s.length !== xs[0].length || s.some((d, i) => d !== xs[0][i]));
    if (bad) throw new Error(`adds inputs of different shapes [${xs[0]}] and [${bad}]`);
    return xs[0];
  },
  apply: (_c, xs) => xs.slice(1).reduce((sum, x) => tf.add(sum, x), xs[0]),
};

const globalAvgPoolConfig = z.strictObject({});

const globalAvgPool2d: OpSpec<z.infer<typeof globalAvgPoolConfig>> = {
  tfjsClasses: ['GlobalAveragePooling2D'],
  config: globalAvgPoolConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape(_c, [x]) {
    expectRank(x, 3, 'an image [height, width, channels]');
    return [x[2]];
  },
  apply: (_c, [x]) => tf.mean(x, [1, 2]),
};

const nonNegativeInt = z.number().int().nonnegative();
const zeroPaddingConfig = z.strictObject({
  /** [[top, bottom], [left, right]] rows/columns of zeros. */
  padding: z.tuple([z.tuple([nonNegativeInt, nonNegativeInt]), z.tuple([nonNegativeInt, nonNegativeInt])]),
});

const zeroPadding2d: OpSpec<z.infer<typeof zeroPaddingConfig>> = {
  tfjsClasses: ['ZeroPadding2D'],
  config: zeroPaddingConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape(c, [x]) {
    expectRank(x, 3, 'an image [height, width, channels]');
    return [x[0] + c.padding[0][0] + c.padding[0][1], x[1] + c.padding[1][0] + c.padding[1][1], x[2]];
  },
  apply: (c, [x]) => tf.pad(x, [[0, 0], c.padding[0], c.padding[1], [0, 0]]),
};

const reshapeConfig = z.strictObject({ targetShape: z.array(positiveInt).min(1).max(3) });

const reshape: OpSpec<z.infer<typeof reshapeConfig>> = {
  tfjsClasses: ['Reshape'],
  config: reshapeConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape(c, [x]) {
    const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
    if (size(c.targetShape) !== size(x))
      throw new Error(`cannot reshape [${x}] (${size(x)} values) to [${c.targetShape}] (${size(c.targetShape)})`);
    return [...c.targetShape];
  },
  apply: (c, [x]) => tf.reshape(x, [x.shape[0], ...c.targetShape]),
};

const concatenateConfig = z.strictObject({});

/** Along the last axis (channels), tfjs Concatenate's default. */
const concatenate: OpSpec<z.infer<typeof concatenateConfig>> = {
  tfjsClasses: ['Concatenate'],
  config: concatenateConfig,
  inputs: { min: 2 },
  params: () => [],
  outputShape(_c, xs) {
    const lead = (s: Shape) => s.slice(0, -1).join(',');
    const bad = xs.find((s) => s.length !== xs[0].length || lead(s) !== lead(xs[0]));
    if (bad) throw new Error(`concatenates inputs whose shapes differ before the last axis: [${xs[0]}] and [${bad}]`);
    return [...xs[0].slice(0, -1), xs.reduce((n, s) => n + s[s.length - 1], 0)];
  },
  apply: (_c, xs) => tf.concat([...xs], -1),
};

const batchNormConfig = z.strictObject({
  /** Keras convention: the fraction of the moving statistic kept per training step (PyTorch's momentum 0.1 is 0.9 here). */
  momentum: z.number().min(0).max(1).default(0.99),
  epsilon: z.number().positive().default(1e-3),
  /** Learn a shift beta / a scale gamma (Keras `center` / `scale`). */
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});
type BatchNormConfig = z.infer<typeof batchNormConfig>;

/** The last axis (channels), as Keras BatchNormalization with axis −1 and PyTorch BatchNorm2d on NHWC. */
const batchNorm: OpSpec<BatchNormConfig> = {
  tfjsClasses: ['BatchNormalization'],
  config: batchNormConfig,
  inputs: { exact: 1 },
  params(c, [x]) {
    const channels = [x[x.length - 1]];
    return [
      ...(c.scale ? [{ role: 'gamma', shape: channels, fill: 1 }] : []),
      ...(c.center ? [{ role: 'beta', shape: channels, fill: 0 }] : []),
      { role: 'moving_mean', shape: channels, fill: 0, state: true as const },
      { role: 'moving_variance', shape: channels, fill: 1, state: true as const },
    ];
  },
  outputShape: (_c, [x]) => x,
  apply(c, [x], params, context) {
    const gamma = c.scale ? params[0] : null;
    const beta = c.center ? params[c.scale ? 1 : 0] : null;
    const [movingMean, movingVariance] = params.slice(params.length - 2);
    let mean = movingMean;
    let variance = movingVariance;
    if (context.mode.batchNorm === 'batch') {
      const axes = x.shape.slice(0, -1).map((_d, i) => i);
      mean = tf.mean(x, axes);
      variance = tf.mean(tf.square(tf.sub(x, mean)), axes);
      const ids = context.paramIndices;
      context.mode.onBatchStatistics?.({
        movingMean: ids[ids.length - 2],
        movingVariance: ids[ids.length - 1],
        mean,
        variance,
        count: x.size / x.shape[x.shape.length - 1],
        momentum: c.momentum,
      });
    }
    // sqrt and div rather than rsqrt: their gradients stay differentiable (double backprop).
    let y: Tensor = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.epsilon)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  },
};

const dropoutConfig = z.strictObject({ rate: z.number().min(0).lt(1) });

/**
 * Inverted dropout: kept values are scaled by 1/(1 − rate). The mask comes from fedleak's generator
 * (seed, layer), so any implementation can reproduce it (docs/protocol.md); without a seed it is the identity.
 */
const dropout: OpSpec<z.infer<typeof dropoutConfig>> = {
  tfjsClasses: ['Dropout'],
  config: dropoutConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape: (_c, [x]) => x,
  apply(c, [x], _params, context) {
    const seed = context.mode.dropoutSeed;
    if (seed === undefined || c.rate === 0) return x;
    const draws = new Float32Array(x.size);
    new Rng(seed).fork(`dropout/layer-${context.layerIndex}`).fillUniform(draws, 0, 1);
    const scale = 1 / (1 - c.rate);
    const mask = draws.map((u) => (u >= c.rate ? scale : 0));
    return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
  },
};

const normalizeConfig = z.strictObject({
  /** Per-channel means (the last axis), or one value for every channel. */
  mean: z.array(z.number()).min(1),
  /** Per-channel standard deviations, positive; or one value. */
  std: z.array(z.number().positive()).min(1),
});

/**
 * Parameter-free per-channel normalisation, y = (x − mean[c]) / std[c] along the last axis: a
 * scenario's `data.normalize` as the model's first layer, so data, attacks and metrics stay in pixel
 * space. Same two float32 operations as normalizeTensor (shared/data/normalize.ts), bit for bit.
 */
const normalize: OpSpec<z.infer<typeof normalizeConfig>> = {
  tfjsClasses: [],
  config: normalizeConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape(c, [x]) {
    const channels = x[x.length - 1];
    for (const [field, values] of [
      ['mean', c.mean],
      ['std', c.std],
    ] as const) {
      if (values.length !== 1 && values.length !== channels)
        throw new Error(`${field} has ${values.length} values; its input has ${channels} channel(s) (give ${channels} or 1)`);
    }
    return x;
  },
  apply: (c, [x]) => tf.div(tf.sub(x, tf.tensor1d(c.mean)), tf.tensor1d(c.std)),
};

const rescalingConfig = z.strictObject({ scale: z.number(), offset: z.number().default(0) });

/** y = x · scale + offset (tfjs/Keras Rescaling, e.g. 1/255 or 1/127.5 − 1 in an imported model). */
const rescaling: OpSpec<z.infer<typeof rescalingConfig>> = {
  tfjsClasses: ['Rescaling'],
  config: rescalingConfig,
  inputs: { exact: 1 },
  params: () => [],
  outputShape: (_c, [x]) => x,
  apply: (c, [x]) => tf.add(tf.mul(x, tf.scalar(c.scale)), tf.scalar(c.offset)),
};

/** op name → spec. The names are the `op` values of a definition's layers. */
export const OPS = {
  conv2d,
  dense,
  activation,
  flatten,
  maxPool2d: pool('max'),
  avgPool2d: pool('avg'),
  globalAvgPool2d,
  zeroPadding2d,
  reshape,
  add,
  concatenate,
  batchNorm,
  dropout,
  depthwiseConv2d,
  normalize,
  rescaling,
} as const;

export type OpName = keyof typeof OPS;

export function isOpName(op: string): op is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, op);
}

/** The spec of an op with its config type erased, for the interpreter's generic walk. */
export function opSpec(op: OpName): OpSpec<unknown> {
  return OPS[op] as unknown as OpSpec<unknown>;
}
