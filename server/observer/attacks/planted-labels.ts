/** Labels for the planted-layer attacks: the count rule on the logit layer (label-inference.ts), as analytic does. */
import { unflattenParams } from '../../../shared/models';
import type { Model } from '../../../shared/models/types';
import { tf } from '../../../shared/tensor/tf';
import { inferLabels } from './label-inference';
import type { AttackInput } from './types';

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
