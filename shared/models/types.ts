import type { Tensor, Tensor2D, Tensor4D } from '../tensor/tf';
import type { Rng } from '../random';

/** Input images are NHWC in [0, 1]: [height, width, channels]. */
export type ImageShape = [number, number, number];

export interface ParamSpec {
  /** Stable name, e.g. "conv1/kernel". */
  name: string;
  /** tfjs layout: conv kernels [kh, kw, inC, outC], dense kernels [in, out], biases [out]. */
  shape: number[];
}

export type Activation = 'relu' | 'sigmoid' | 'tanh';

/**
 * A model is a pure function of its parameters (a list of tensors in `specs` order), so that
 * attacks can differentiate the gradient of the loss with respect to the parameters again.
 */
export interface Model {
  readonly name: string;
  readonly inputShape: ImageShape;
  readonly numClasses: number;
  /** Parameter tensors in flatten order; see docs/models.md. */
  readonly specs: readonly ParamSpec[];
  /** Logits [batch, numClasses] for images [batch, h, w, c]. */
  apply(params: readonly Tensor[], images: Tensor4D): Tensor2D;
  /** Fresh parameters as one flat vector, deterministic for a given rng. */
  initParams(rng: Rng): Float32Array;
  /** Index of the dense layer that produces the logits (kernel, bias) in `specs`. */
  readonly logitLayer: { kernel: number; bias: number };
  /** Index of the first layer's (kernel, bias) in `specs` when that layer is dense with bias. */
  readonly firstDenseLayer: { kernel: number; bias: number } | null;
}

export function paramCount(specs: readonly ParamSpec[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
