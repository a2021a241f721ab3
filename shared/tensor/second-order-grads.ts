/**
 * Gradients that tfjs-core does not register but double backprop (DLG and successors) needs.
 *
 * The first backward pass of a conv net emits Conv2DBackpropFilter (∂L/∂W), with depthwise
 * convolutions DepthwiseConv2dNativeBackpropFilter and -Input, and with average pooling
 * AvgPoolGrad. Differentiating the gradient-matching objective again goes through those kernels,
 * so each needs its own gradient. These kernels are linear in each input, which makes
 * their gradients plain (transposed) convolutions and poolings of the upstream gradient.
 *
 * tfjs-core's gradients that use the kernel's saved *output* (Sigmoid, Tanh, Exp, LogSoftmax,
 * Softmax, Elu, Pow) are wrong under double backprop: the engine clones the output for saving
 * before the kernel's own tape node exists, so the clone is not connected to the input and the
 * second derivative silently drops every term through it (e.g. σ'' of the sigmoid). We
 * re-register them to save the input and recompute the output inside the gradient, which the
 * outer tape then records. Conv2D, Conv2DBackpropInput, Relu (via Step), BatchMatMul and the
 * elementwise arithmetic gradients are correct as shipped (test/second-order-grads.test.ts checks
 * all of them against finite differences).
 */
import { tf, type Tensor, type Tensor4D } from './tf';
import { sigmoidBackward } from './fast-kernels/fused';
import { maxPoolGradGrad } from './max-pool-grad';

type Padding = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type PoolPadding = 'valid' | 'same' | number;
type Pair = [number, number] | number;

interface ConvBackpropFilterAttrs {
  strides: Pair;
  pad: Padding;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface AvgPoolGradAttrs {
  filterSize: Pair;
  strides: Pair;
  pad: PoolPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function requireNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} gradient: only NHWC data is supported, got dataFormat ${dataFormat}`);
  }
}

/**
 * dW[a,b,c,o] = Σ_{n,i,j} x[n, i·s + a − pt, j·s + b − pl, c] · dy[n,i,j,o].
 * Against an upstream G (shape of dW):
 *   ∂/∂x  = conv2dTranspose(dy, G) — the input-gradient of conv2d(x, G) for output-gradient dy;
 *   ∂/∂dy = conv2d(x, G) with the same strides and padding.
 */
const conv2DBackpropFilterGrad: tf.GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (upstream: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = upstream as Tensor4D;
    const [x, dy] = saved as [Tensor4D, Tensor4D];
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as ConvBackpropFilterAttrs;
    requireNhwc('Conv2DBackpropFilter', dataFormat);
    const xShape = x.shape as [number, number, number, number];
    return {
      x: () => tf.conv2dTranspose(dy, g, xShape, strides, pad, dimRoundingMode),
      dy: () => tf.conv2d(x, g, strides, pad, 'NHWC', 1, dimRoundingMode),
    };
  },
};

type DepthwiseFilterAttrs = tf.DepthwiseConv2dNativeBackpropFilterAttrs;
type DepthwiseInputAttrs = tf.DepthwiseConv2dNativeBackpropInputAttrs;

function depthwiseBackpropInput(xShape: Tensor4D['shape'], dy: Tensor4D, filter: Tensor4D, a: DepthwiseFilterAttrs): Tensor4D {
  const attrs: DepthwiseInputAttrs = {
    strides: a.strides,
    pad: a.pad,
    dilations: a.dilations,
    dimRoundingMode: a.dimRoundingMode,
    inputShape: xShape,
  };
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap) as Tensor4D;
}

function depthwiseBackpropFilter(x: Tensor4D, dy: Tensor4D, filterShape: Tensor4D['shape'], a: DepthwiseInputAttrs): Tensor4D {
  const attrs: DepthwiseFilterAttrs = {
    strides: a.strides,
    pad: a.pad,
    dilations: a.dilations,
    dimRoundingMode: a.dimRoundingMode,
    filterShape,
  };
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as Tensor4D;
}

function depthwiseForward(x: Tensor4D, filter: Tensor4D, a: DepthwiseFilterAttrs | DepthwiseInputAttrs): Tensor4D {
  return tf.depthwiseConv2d(x, filter, a.strides, a.pad, 'NHWC', a.dilations, a.dimRoundingMode);
}

/**
 * The two kernels of the depthwise convolution's first backward pass. With
 * y = depthwiseConv2d(x, W), both are bilinear and ⟨G, dW⟩ = ⟨depthwiseConv2d(x, G), dy⟩ for the
 * filter gradient dW = BackpropFilter(x, dy), ⟨G, dx⟩ = ⟨depthwiseConv2d(G, W), dy⟩ for the input
 * gradient dx = BackpropInput(dy, W). So against an upstream G:
 *   BackpropFilter: ∂/∂x = BackpropInput(dy, G), ∂/∂dy = depthwiseConv2d(x, G);
 *   BackpropInput:  ∂/∂dy = depthwiseConv2d(G, W), ∂/∂W = BackpropFilter(G, dy).
 * Same strides, padding and dilations as the forward convolution throughout.
 */
const depthwiseBackpropFilterGrad: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (upstream: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = upstream as Tensor4D;
    const [x, dy] = saved as [Tensor4D, Tensor4D];
    const a = attrs as unknown as DepthwiseFilterAttrs;
    return {
      x: () => depthwiseBackpropInput(x.shape, dy, g, a),
      dy: () => depthwiseForward(x, g, a),
    };
  },
};

const depthwiseBackpropInputGrad: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  inputsToSave: ['dy', 'filter'],
  gradFunc: (upstream: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = upstream as Tensor4D;
    const [dy, filter] = saved as [Tensor4D, Tensor4D];
    const a = attrs as unknown as DepthwiseInputAttrs;
    return {
      dy: () => depthwiseForward(g, filter, a),
      filter: () => depthwiseBackpropFilter(g, dy, filter.shape, a),
    };
  },
};

/** AvgPoolGrad is linear in dy (and constant in the pooled input): its adjoint is avgPool itself. */
const avgPoolGradGrad: tf.GradConfig = {
  kernelName: 'AvgPoolGrad',
  inputsToSave: ['input'],
  gradFunc: (upstream: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = upstream as Tensor4D;
    const [input] = saved;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as AvgPoolGradAttrs;
    return {
      dy: () => tf.avgPool(g, filterSize, strides, pad, dimRoundingMode),
      input: () => tf.zerosLike(input),
    };
  },
};

/**
 * The saved output when it is connected to the tape (saved-tensor aliasing, below, is active on
 * this backend), else the output recomputed from the saved input so that the outer tape sees it.
 */
function output(savedY: Tensor, recompute: () => Tensor): Tensor {
  return aliasesActive() ? savedY : recompute();
}

/** Output-saving gradients of tfjs-core, rewritten to stay correct under double backprop. */
const recomputingGrads: tf.GradConfig[] = [
  {
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, savedY] = saved;
      return {
        // One fused kernel (with a fused gradient) on the cpu backend; dy·y·(1 − y) elsewhere.
        x: () =>
          sigmoidBackward(
            output(savedY, () => tf.sigmoid(x)),
            dy as Tensor,
          ),
      };
    },
  },
  {
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, savedY] = saved;
      return { x: () => tf.mul(tf.sub(1, tf.square(output(savedY, () => tf.tanh(x)))), dy as Tensor) };
    },
  },
  {
    kernelName: 'Exp',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, savedY] = saved;
      return {
        x: () =>
          tf.mul(
            dy as Tensor,
            output(savedY, () => tf.exp(x)),
          ),
      };
    },
  },
  {
    kernelName: 'LogSoftmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, saved, attrs) => {
      const [logits] = saved;
      const { axis } = attrs as unknown as { axis: number };
      return {
        logits: () => {
          const d = dy as Tensor;
          return tf.sub(d, tf.mul(tf.sum(d, axis, true), tf.softmax(logits, axis)));
        },
      };
    },
  },
  {
    kernelName: 'Softmax',
    inputsToSave: ['logits'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [logits, savedY] = saved;
      const { dim } = attrs as unknown as { dim: number };
      return {
        logits: () => {
          const y = output(savedY, () => tf.softmax(logits, dim));
          const dyTimesY = tf.mul(dy as Tensor, y);
          return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
        },
      };
    },
  },
  {
    kernelName: 'Elu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      // d/dx elu = 1 for x > 0, exp(x) otherwise.
      return { x: () => tf.mul(dy as Tensor, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.exp(x))) };
    },
  },
  {
    kernelName: 'Pow',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const reduceTo = (t: Tensor, shape: number[]): Tensor => {
        const axes = tf.broadcast_util.getReductionAxes(shape, outShape);
        return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
      };
      return {
        a: () => {
          const bf = tf.cast(b, 'float32');
          return reduceTo(tf.mul(d, tf.mul(bf, tf.pow(a, tf.sub(bf, 1)))), a.shape);
        },
        b: () => {
          const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
          return reduceTo(tf.mul(d, tf.mul(tf.pow(a, b), logA)), b.shape);
        },
      };
    },
  },
];

/**
 * Comparisons are piecewise constant, so their gradient is zero. tfjs-core registers none for
 * Equal, which Max's gradient (the mask x == max) reaches under double backprop.
 */
const zeroGrads: tf.GradConfig[] = ['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater'].map((kernelName) => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [a, b] = saved;
    return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
  },
}));

/** The tfjs engine internals that the saved-tensor aliasing below replaces. */
interface EngineInternals {
  saveTensorsForBackwardMode(tensors: Tensor[]): Tensor[];
  incRef(t: Tensor, backend?: unknown): void;
  keep<T extends Tensor>(t: T): T;
}

/**
 * tfjs saves a kernel's inputs/outputs for its gradient by cloning each through an Identity
 * kernel with its own tape node, and the backward pass then runs a Cast per clone. In a DLG
 * evaluation that is ~40% of all kernel calls. An alias — a new Tensor object with the same
 * data (one more reference) and the same tensor id — is just as safe against disposal of the
 * original, costs no kernel call or tape node, and, because gradients are routed by tensor id,
 * keeps saved outputs connected to the tape (which the clone does not; see above).
 * Only on backends whose data is reference-counted (cpu, wasm); others keep tfjs's clone.
 */
function installSavedTensorAliases(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (typeof engine.saveTensorsForBackwardMode !== 'function' || typeof engine.incRef !== 'function') return;
  const original = engine.saveTensorsForBackwardMode.bind(engine);
  aliasesInstalled = true;
  engine.saveTensorsForBackwardMode = (tensors: Tensor[]): Tensor[] => {
    if (!aliasesActive()) return original(tensors);
    return tensors.map((t) => {
      const alias = new tf.Tensor(t.shape, t.dtype, t.dataId, t.id);
      engine.incRef(alias);
      return engine.keep(alias);
    });
  };
}

let aliasesInstalled = false;

function aliasesActive(): boolean {
  if (!aliasesInstalled) return false;
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm';
}

let registered = false;

export function registerSecondOrderGradients(): void {
  if (registered) return;
  registered = true;
  if (process.env.FEDLEAK_CLONE_SAVED_TENSORS !== '1') installSavedTensorAliases();
  tf.registerGradient(conv2DBackpropFilterGrad);
  tf.registerGradient(avgPoolGradGrad);
  tf.registerGradient(depthwiseBackpropFilterGrad);
  tf.registerGradient(depthwiseBackpropInputGrad);
  tf.registerGradient(maxPoolGradGrad);
  for (const config of recomputingGrads) tf.registerGradient(config);
  for (const config of zeroGrads) tf.registerGradient(config);
}

/**
 * log_softmax that can be differentiated twice. tf.logSoftmax is a customGrad op whose saved
 * output is detached from its input, so the second derivative through it is wrong (it drops the
 * softmax Jacobian). This composite form is exact: the max shift cancels in the derivative.
 */
export function logSoftmax(logits: Tensor, axis = -1): Tensor {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, axis, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), axis, true)));
  });
}
