import type { Tensor, Tensor2D, Tensor4D } from '../tensor/tf';
import type { Rng } from '../random';
import type { ModelDefinition } from './graph/validate';
import type { ForwardMode } from './graph/forward-mode';

/** Input images are NHWC in [0, 1]: [height, width, channels]. */
export type ImageShape = [number, number, number];

export interface ParamSpec {
  /** Stable name, e.g. "conv1/kernel". */
  name: string;
  /** tfjs layout: conv kernels [kh, kw, inC, outC], dense kernels [in, out], biases [out]. */
  shape: number[];
}

/** Activations of the built-in models' `model.activation`; a definition may use more (graph/activations.ts). */
export type Activation = 'relu' | 'sigmoid' | 'tanh';

/** A layer's (kernel, bias) as indices into `specs`. */
export interface DenseRef {
  kernel: number;
  bias: number;
}

/**
 * A model is a pure function of its parameters (a list of tensors in `specs` order), so that
 * attacks can differentiate the gradient of the loss with respect to the parameters again.
 * Built by `modelFromDefinition` from the definition it carries.
 */
export interface Model {
  readonly name: string;
  readonly inputShape: ImageShape;
  readonly numClasses: number;
  /** Parameter tensors in flatten order; see docs/models.md. */
  readonly specs: readonly ParamSpec[];
  /** The definition this model was built from (what travels in `welcome`). */
  readonly definition: ModelDefinition;
  /** Indices into `specs` of state that is not trained by gradient (batch norm's moving statistics), ascending. */
  readonly stateParams: readonly number[];
  /**
   * Logits [batch, numClasses] for images [batch, h, w, c]. `mode` (default TRAINING_FORWARD: batch
   * norm on batch statistics, no dropout) matters only for models with batch norm or dropout.
   */
  apply(params: readonly Tensor[], images: Tensor4D, mode?: ForwardMode): Tensor2D;
  /** Fresh parameters as one flat vector, deterministic for a given rng. */
  initParams(rng: Rng): Float32Array;
  /** The dense layer (with bias, linear) that produces the logits, or null when the last layer is not one. */
  readonly logitDense: DenseRef | null;
  /** `logitDense`, for code that needs it: throws a ModelDefinitionError naming the model when it is null. */
  readonly logitLayer: DenseRef;
  /** Index of the first layer's (kernel, bias) in `specs` when that layer is dense with bias, fed by the input through flattens only. */
  readonly firstDenseLayer: DenseRef | null;
}

export function paramCount(specs: readonly ParamSpec[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
