/**
 * Label inference from the logit layer's update (no optimisation, no ground truth).
 *
 * For the mean soft-cross-entropy over N examples, the logit layer's bias gradient is
 *   g_b[j] = (1/N) · Σ_i (p_ij − y_ij),
 * so N·g_b[j] = Σ_i p_ij − n_j, where n_j counts examples of class j. A class with g_b[j] < 0 is
 * certainly present (Σ p_ij < n_j needs n_j ≥ 1). Counts follow an LLG-style greedy rule (Wainakh et
 * al. 2022) with the bias as the per-label "impact" (exactly 1 per example, instead of LLG's
 * estimated impact on the weight-row sums): the offset Σ_i p_ij is estimated as N·p̂_j, with p̂ the
 * model's mean softmax on dummy inputs at the known global parameters, then
 *   r_j = N·g_b[j] − N·p̂_j  (≈ −n_j),
 * every class with g_b[j] < 0 gets one label first (r_j += 1), then the class with the smallest r_j
 * gets the next label (r_j += 1) until N labels are handed out.
 * Batch 1 falls back to the iDLG sign rule: the one class with a negative bias gradient (argmin).
 * FedAvg: the gradient estimate −delta/(lr·steps) mixes softmaxes taken at every local step's
 * parameters, so p̂ is averaged over θ_global + (s/steps)·delta, s = 0…steps−1 (`softmaxAt`).
 */
import { tf, type Tensor, type Tensor4D } from '../../../shared/tensor/tf';
import { Rng } from '../../../shared/random';
import type { ImageShape, Model } from '../../../shared/models/types';
import { splitFlat } from '../../../shared/models/params';

/** iDLG sign rule: the class whose logit-bias gradient is most negative (the only negative one for batch 1). */
export function signRuleLabel(logitBiasGrad: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < logitBiasGrad.length; j++) if (logitBiasGrad[j] < logitBiasGrad[best]) best = j;
  return best;
}

/** Greedy count rule given the bias gradient and the estimated mean softmax p̂ (see the file comment). */
export function countRuleLabels(logitBiasGrad: ArrayLike<number>, meanSoftmax: ArrayLike<number>, count: number): number[] {
  return greedyCount(logitBiasGrad, meanSoftmax, count, -1).labels;
}

/**
 * Residual gap (in examples) below which a greedy pick counts as a close call. On 20 lenet-zhu
 * batches of 4 real digits the one wrong pick had gap 0.17; right picks ranged 0.00–1.48, so close
 * calls are screened rather than trusted, and clear ones are left alone (screening costs time).
 */
export const CLOSE_CALL_GAP = 0.5;

/**
 * Initial residual (in examples) above which a class counts as over-predicted: the model gives it
 * more probability on the real batch than p̂ says, so p̂ is off for it and its count is unreliable.
 * FedAvg shows why: after a step on a 3 a saturated model predicts 3 for the next batch, so the 3 has
 * a positive bias gradient (residual +0.46 and +0.27 on the two clients of the fedavg scenario).
 */
export const SURPLUS_RESIDUAL = 0.25;

/**
 * The count rule's answer first, then up to `max` − 1 alternatives that an attack can screen (p̂ is
 * an estimate, so the rule can be wrong where it is off):
 * 1. close calls — at each greedy pick whose gap is below `closeCall` (closest first), take the
 *    runner-up class and continue greedily (a class the model already predicts for several images
 *    can look absent; fedsgd seed 3 lost its 3 to a second 4 this way);
 * 2. over-predicted classes — each class outside the answer whose initial residual exceeds
 *    `surplus` (largest first) replaces the last greedy pick.
 */
export function countRuleCandidates(
  logitBiasGrad: ArrayLike<number>,
  meanSoftmax: ArrayLike<number>,
  count: number,
  max: number,
  closeCall = CLOSE_CALL_GAP,
  surplus = SURPLUS_RESIDUAL,
): number[][] {
  const base = greedyCount(logitBiasGrad, meanSoftmax, count, -1);
  const out = [base.labels];
  const seen = new Set([base.labels.join(',')]);
  const add = (labels: number[]): void => {
    const key = labels.join(',');
    if (out.length < max && !seen.has(key)) {
      seen.add(key);
      out.push(labels);
    }
  };
  base.gaps
    .map((gap, pick) => ({ gap, pick }))
    .filter((c) => c.gap < closeCall)
    .sort((a, b) => a.gap - b.gap)
    .forEach(({ pick }) => add(greedyCount(logitBiasGrad, meanSoftmax, count, pick).labels));
  if (base.greedyPicks.length > 0) {
    const last = base.labels.lastIndexOf(base.greedyPicks[base.greedyPicks.length - 1]);
    base.initialResidual
      .map((r, j) => ({ r, j }))
      .filter(({ r, j }) => r > surplus && !base.labels.includes(j))
      .sort((a, b) => b.r - a.r)
      .forEach(({ j }) => add(base.labels.map((l, i) => (i === last ? j : l)).sort((a, b) => a - b)));
  }
  return out;
}

interface GreedyCount {
  /** Sorted multiset. */
  labels: number[];
  /** Runner-up residual − best residual at each greedy pick. */
  gaps: number[];
  /** Classes handed out by the greedy step (after the certainly present ones), in order. */
  greedyPicks: number[];
  /** N·(g_b − p̂) before any label was handed out. */
  initialResidual: number[];
}

/** The count rule; at greedy pick `deviateAt` (0-based, among the picks after the certain classes) it takes the runner-up. */
function greedyCount(logitBiasGrad: ArrayLike<number>, meanSoftmax: ArrayLike<number>, count: number, deviateAt: number): GreedyCount {
  const k = logitBiasGrad.length;
  if (meanSoftmax.length !== k) throw new Error(`label inference: ${meanSoftmax.length} softmax means for ${k} classes`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`label inference: count must be a positive integer, got ${count}`);
  const residual = Array.from({ length: k }, (_, j) => count * (logitBiasGrad[j] - meanSoftmax[j]));
  const initialResidual = residual.slice();
  const labels: number[] = [];
  const gaps: number[] = [];
  const greedyPicks: number[] = [];
  // Certainly present classes first, most negative first (there can be more than `count` only with noise).
  const present = Array.from({ length: k }, (_, j) => j)
    .filter((j) => logitBiasGrad[j] < 0)
    .sort((a, b) => logitBiasGrad[a] - logitBiasGrad[b]);
  for (const j of present.slice(0, count)) {
    labels.push(j);
    residual[j] += 1;
  }
  while (labels.length < count) {
    const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => residual[a] - residual[b] || a - b);
    gaps.push(k > 1 ? residual[order[1]] - residual[order[0]] : Infinity);
    const chosen = gaps.length - 1 === deviateAt && k > 1 ? order[1] : order[0];
    labels.push(chosen);
    greedyPicks.push(chosen);
    residual[chosen] += 1;
  }
  return { labels: labels.sort((a, b) => a - b), gaps, greedyPicks, initialResidual };
}

/**
 * Mean softmax of the model at `params` over dummy inputs: uniform noise images, which for
 * untrained networks land close to the data's mean softmax (their saturating layers see little
 * difference). Attackers know the global parameters, so this needs no data.
 */
export function estimateMeanSoftmax(model: Model, params: readonly Tensor[], rng: Rng, samples = 32): Float32Array {
  const shape: ImageShape = model.inputShape;
  const size = shape[0] * shape[1] * shape[2];
  const noise = new Float32Array(samples * size);
  rng.fillUniform(noise, 0, 1);
  return tf.tidy(() => {
    const images = tf.tensor4d(noise, [samples, ...shape]) as Tensor4D;
    return tf.mean(tf.softmax(model.apply(params, images)), 0).dataSync() as Float32Array;
  });
}

export interface LabelInferenceInput {
  model: Model;
  /** Global parameters, as tensors in `model.specs` order. */
  params: readonly Tensor[];
  /** A gradient estimate, flat in `model.specs` order (for fedavg: −delta / (lr · steps)). */
  gradient: Float32Array;
  /** Number of examples behind the gradient. */
  count: number;
  seed: number;
  /**
   * Parameter sets the examples were seen at, when not all at `params` (fedavg: one per local step);
   * p̂ is averaged over them. Default: [params].
   */
  softmaxAt?: readonly (readonly Tensor[])[];
}

/** Labels (sorted, as a multiset) of the `count` examples behind `gradient`. */
export function inferLabels(input: LabelInferenceInput): number[] {
  return inferLabelCandidates(input, 1)[0];
}

/** The inferred labels first, then up to `max` − 1 alternatives (countRuleCandidates; over-predicted classes only for multi-step updates); batch 1: the sign rule only. */
export function inferLabelCandidates(input: LabelInferenceInput, max: number): number[][] {
  const parts = splitFlat(input.gradient, input.model.specs);
  const biasGrad = parts[input.model.logitLayer.bias];
  if (input.count === 1) return [[signRuleLabel(biasGrad)]];
  const at = input.softmaxAt ?? [input.params];
  const rng = new Rng(input.seed).fork('label-inference');
  const meanSoftmax = new Float32Array(input.model.numClasses);
  for (const p of at) estimateMeanSoftmax(input.model, p, rng).forEach((v, j) => (meanSoftmax[j] += v / at.length));
  // p̂ taken at estimated parameters (fedavg's later steps) can miss a class the model learnt on the
  // way; at the known global parameters (fedsgd) a surplus is noise, and screening it costs accuracy
  // (fedsgd seeds 2 and 4: a surplus class won the short screen and the full run ended 12–13 dB).
  const surplus = at.length > 1 ? SURPLUS_RESIDUAL : Infinity;
  return countRuleCandidates(biasGrad, meanSoftmax, input.count, max, CLOSE_CALL_GAP, surplus);
}

/** Fraction of `truth` recovered by `guess`, both as multisets (order ignored). */
export function multisetLabelAccuracy(guess: readonly number[], truth: readonly number[]): number {
  if (truth.length === 0) return 1;
  const left = new Map<number, number>();
  for (const t of truth) left.set(t, (left.get(t) ?? 0) + 1);
  let hits = 0;
  for (const g of guess) {
    const n = left.get(g) ?? 0;
    if (n > 0) {
      hits++;
      left.set(g, n - 1);
    }
  }
  return hits / truth.length;
}
