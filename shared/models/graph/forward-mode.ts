/**
 * How a forward pass treats the layers that behave differently in training and inference: batch
 * norm (batch statistics or the stored moving statistics) and dropout (a seeded mask or the
 * identity). Models without such layers compute the same in every mode.
 */
import type { Tensor } from '../../tensor/tf';

/** One batch-norm layer's statistics over a batch, as its forward pass computed them. */
export interface BatchStatistics {
  /** Indices into the model's params of the layer's moving mean and moving variance. */
  movingMean: number;
  movingVariance: number;
  /** Per channel, over batch × height × width. */
  mean: Tensor;
  /** Biased (divided by `count`), as the normalisation uses it. */
  variance: Tensor;
  /** How many values per channel the statistics cover. */
  count: number;
  /** The layer's momentum (Keras convention: the fraction of the moving statistic kept per step). */
  momentum: number;
}

export interface ForwardMode {
  /** 'batch': batch norm normalises with the batch's own statistics (the client's training step, and what attacks replay); 'moving': with the moving statistics in the parameters (inference). */
  readonly batchNorm: 'batch' | 'moving';
  /** Dropout masks are drawn from this seed (fedleak's generator, per layer); without it dropout is the identity. */
  readonly dropoutSeed?: number;
  /** Receives each batch-norm layer's batch statistics (only in 'batch' mode); the pass disposes them unless the callback `tf.keep`s them. */
  readonly onBatchStatistics?: (stats: BatchStatistics) => void;
}

/** Training mode without dropout: what attacks replay of the client's step (dropout masks are the client's secret). */
export const TRAINING_FORWARD: ForwardMode = { batchNorm: 'batch' };
/** Inference: evaluation, the released model's predictions, `tfjs model.predict`. */
export const INFERENCE_FORWARD: ForwardMode = { batchNorm: 'moving' };

/** What an op sees of the pass besides its inputs and parameters. */
export interface OpContext {
  readonly mode: ForwardMode;
  /** Position of the layer in the definition (dropout streams are per layer). */
  readonly layerIndex: number;
  /** Indices into the model's params of the layer's parameters, in the op's order. */
  readonly paramIndices: readonly number[];
}
