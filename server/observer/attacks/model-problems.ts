/**
 * The model shapes attacks depend on, as `modelProblem` checks (AttackDefinition): the label rules
 * (label-inference.ts) read the logit layer's gradient, the analytic-style readouts divide the first
 * dense layer's weight gradient by its bias gradient. One sentence each, naming the model and why.
 */
import type { Model } from '../../../shared/models/types';

/** Null when the model ends in a dense layer with bias and linear activation (the logits). */
export function logitLayerProblem(model: Model, attack: string): string | null {
  return model.logitDense === null
    ? `model "${model.name}" does not end in a dense layer with bias and linear activation, and ${attack} reads the labels off that logit layer's gradient (the iDLG sign rule and the count rule)`
    : null;
}

/** Null when the first layer with parameters is dense with a bias and sees the flattened input. */
export function firstDenseProblem(model: Model, why: string): string | null {
  return model.firstDenseLayer === null ? `model "${model.name}" has no dense first layer with bias (${why}); use model.name "mlp"` : null;
}

/** The first problem of several checks, or null when all pass. */
export function firstProblemOf(...problems: (string | null)[]): string | null {
  return problems.find((p) => p !== null) ?? null;
}
