/**
 * Likelihoods of what the attribute-inference attacker observed, given the released model's (masked)
 * answer for a candidate record x_v (the target's known attributes with sensitive value v):
 *
 * - label evidence, the target's true class y: P(y | answer) — the answer's score of y (a classifier's
 *   analogue of Fredrikson 2014's P_err(y − f(v, x))); with label-only answers, the confusion matrix
 *   π(y | predicted) of the released model on its training data (Fredrikson et al. 2015's side
 *   information for models that answer labels);
 * - scores evidence, the API's masked answer for the target's real record: a Gaussian match between the
 *   two answers' score vectors (the model is deterministic, so the true value reproduces it exactly).
 */
import type { PredictOutput } from './client';
import type { Masking } from './schema';

/** π[predicted][y], rows normalised with add-one smoothing. */
export type ConfusionMatrix = number[][];

export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): ConfusionMatrix {
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(1));
  for (let i = 0; i < labels.length; i++) counts[predicted[i]][labels[i]]++;
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => c / total);
  });
}

/** The smallest probability a score can stand for: rounding to d decimals hides anything below half a step. */
function scoreFloor(masking: Masking): number {
  return masking.mode === 'round' ? 0.5 * 10 ** -masking.decimals : 1e-6;
}

/** log P(true class y | the answer for a candidate record). */
export function labelLogLikelihood(answer: PredictOutput, y: number, masking: Masking, confusion: ConfusionMatrix | null): number {
  if (answer.scores === null) {
    if (!confusion) throw new Error('attribute inference: label-only answers need the confusion matrix');
    return Math.log(confusion[answer.label][y]);
  }
  const shown = answer.scores[y];
  if (typeof shown === 'number') return Math.log(Math.max(shown, scoreFloor(masking)));
  // Top-k hid y's score: spread the mass the shown scores leave over the hidden classes.
  const visible = answer.scores.filter((s): s is number => typeof s === 'number');
  const hidden = answer.scores.length - visible.length;
  const rest = (1 - visible.reduce((a, b) => a + b, 0)) / hidden;
  return Math.log(Math.max(rest, scoreFloor(masking)));
}

/** An answer as a vector: its scores with hidden ones as 0, or the one-hot predicted label for label-only. */
function answerVector(answer: PredictOutput, numClasses: number): number[] {
  if (answer.scores === null) return Array.from({ length: numClasses }, (_, c) => (c === answer.label ? 1 : 0));
  return answer.scores.map((s) => s ?? 0);
}

/** log of the Gaussian match (σ = scoreNoise) between the observed answer and a candidate's. */
export function scoresLogLikelihood(observed: PredictOutput, candidate: PredictOutput, numClasses: number, scoreNoise: number): number {
  const a = answerVector(observed, numClasses);
  const b = answerVector(candidate, numClasses);
  let d2 = 0;
  for (let c = 0; c < numClasses; c++) d2 += (a[c] - b[c]) ** 2;
  return -d2 / (2 * scoreNoise * scoreNoise);
}
