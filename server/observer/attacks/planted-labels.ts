/** Labels and outputs for the planted-layer attacks (imprint, trap weights): the count rule on the logit layer (label-inference.ts), as analytic does. */
import { unflattenParams } from '../../../shared/models';
import type { Model } from '../../../shared/models/types';
import { tf } from '../../../shared/tensor/tf';
import { inferLabels } from './label-inference';
import type { AttackInput, AttackOutput } from './types';

export function plantedLabels(input: AttackInput<unknown>, model: Model, count: number, want: number): number[] {
  if (want === 0) return [];
  const { observed, payload } = input;
  const gradient = observed.kind === 'gradient' ? observed.update : observed.update.map((v) => -v / payload.training.learningRate);
  const params = unflattenParams(payload.params, model.specs);
  try {
    return inferLabels({ model, params, gradient, count: Math.max(1, count), seed: input.seed }).slice(0, want);
  } finally {
    tf.dispose(params);
  }
}

/** Examples behind the update, as the planted readouts expect them (at least one). */
export function examplesBehind(input: AttackInput<unknown>): number {
  return Math.max(1, input.observed.numExamples || input.payload.training.batchSize);
}

/** The AttackOutput of a one-shot readout (no optimisation): images, labels from the planted model, the readout's own figure. */
export function readoutOutput(
  input: AttackInput<unknown>,
  model: Model,
  read: { images: Float32Array; count: number },
  figure: number,
  startedMs: number,
): AttackOutput {
  return {
    images: read.images,
    count: read.count,
    labels: plantedLabels(input, model, examplesBehind(input), read.count),
    iterations: 0,
    evaluations: 0,
    finalObjective: figure,
    seconds: (performance.now() - startedMs) / 1000,
  };
}
