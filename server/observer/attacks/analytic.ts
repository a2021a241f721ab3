/**
 * Analytic recovery from a dense first layer with bias (Phong et al. 2017).
 *
 * For z = x·W + b (tfjs kernel layout [in, out]) and one example, ∂L/∂W[:, i] = x · ∂L/∂b_i, so every
 * unit i with ∂L/∂b_i ≠ 0 gives x = ∂L/∂W[:, i] / ∂L/∂b_i exactly. A fedavg weight delta after one
 * local step is −lr · gradient, and the ratio cancels the scale.
 *
 * Batch of B: ∂L/∂W[:, i] = (1/B) Σ_k x_k · δ_k,i, so unit i yields a mixture of the examples that
 * reach it, weighted by their δ_k,i. With ReLU (or any unit some examples leave inactive) a unit
 * reached by one example only yields that example exactly; many units do, so the exact images recur
 * while mixtures are each unique. We compute every unit's ratio, cluster near-identical ones and keep
 * the largest clusters (at most B) as reconstructions, largest first. A cluster needs at least two
 * units, unless nothing recurs at all (then the single most confident ratio is returned).
 *
 * Labels: batch 1 by the iDLG sign rule, batches by the count rule (label-inference.ts); with a
 * batch the pairing of labels to images is not identified (documented in docs/attacks.md).
 */
import { unflattenParams } from '../../../shared/models';
import { modelFromDefinition } from '../../../shared/models/definition';
import { tf } from '../../../shared/tensor/tf';
import { splitFlat } from '../../../shared/models/params';
import { inferLabels } from './label-inference';
import type { AttackInput, AttackOutput, AttackDefinition } from './types';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';
import { firstProblemOf, logitLayerProblem } from './model-problems';

/** Bias gradients smaller than this fraction of the largest one are float noise, not signal. */
const RELATIVE_BIAS_FLOOR = 1e-6;
/** Two unit ratios belong to the same image when their RMS difference is below this. */
const SAME_IMAGE_RMS = 1e-3;

export interface UnitRatio {
  unit: number;
  /** |∂L/∂b_i|: larger means a better-conditioned division. */
  weight: number;
  image: Float32Array;
}

/** x = W[:, i] / b_i for every unit with a usable bias gradient. */
export function unitRatios(kernel: Float32Array, bias: Float32Array): UnitRatio[] {
  const units = bias.length;
  const inputs = kernel.length / units;
  if (!Number.isInteger(inputs)) throw new Error(`analytic: kernel of ${kernel.length} values does not fit ${units} bias entries`);
  let maxAbs = 0;
  for (const b of bias) maxAbs = Math.max(maxAbs, Math.abs(b));
  if (maxAbs === 0) return [];
  const ratios: UnitRatio[] = [];
  for (let i = 0; i < units; i++) {
    const b = bias[i];
    if (Math.abs(b) <= RELATIVE_BIAS_FLOOR * maxAbs) continue;
    const image = new Float32Array(inputs);
    for (let k = 0; k < inputs; k++) image[k] = kernel[k * units + i] / b;
    ratios.push({ unit: i, weight: Math.abs(b), image });
  }
  return ratios.sort((a, b) => b.weight - a.weight);
}

function rmsDifference(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k] - b[k];
    s += d * d;
  }
  return Math.sqrt(s / a.length);
}

export interface RatioCluster {
  /** The best-conditioned member's image (largest |bias gradient|). */
  image: Float32Array;
  units: number[];
}

/** Greedy clustering: each ratio joins the first cluster whose representative it matches. */
export function clusterRatios(ratios: readonly UnitRatio[], tolerance = SAME_IMAGE_RMS): RatioCluster[] {
  const clusters: RatioCluster[] = [];
  for (const r of ratios) {
    const home = clusters.find((c) => rmsDifference(c.image, r.image) < tolerance);
    if (home) home.units.push(r.unit);
    else clusters.push({ image: r.image, units: [r.unit] });
  }
  return clusters.sort((a, b) => b.units.length - a.units.length);
}

export const analytic = async (input: AttackInput): Promise<AttackOutput> => {
  const started = performance.now();
  const { inputShape } = input.payload.model;
  const model = modelFromDefinition(input.payload.model);
  if (model.firstDenseLayer === null) {
    throw new Error(
      `analytic: model "${model.name}" has no dense first layer with bias, so the update carries no x·(∂L/∂b)ᵀ to divide out; use an mlp (model.name "mlp") or a gradient-matching attack`,
    );
  }
  if (input.observed.kind === 'weight-delta' && input.payload.training.localSteps > 1) {
    process.emitWarning(
      `analytic: a fedavg delta after ${input.payload.training.localSteps} local steps mixes several steps' gradients; recovery is approximate`,
    );
  }
  const parts = splitFlat(input.observed.update, model.specs);
  const kernel = parts[model.firstDenseLayer.kernel];
  const bias = parts[model.firstDenseLayer.bias];
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  if (kernel.length !== size * bias.length) {
    throw new Error(
      `analytic: first dense kernel has ${kernel.length} values, expected ${size}·${bias.length} for input ${inputShape.join('×')}`,
    );
  }
  const batch = Math.max(
    1,
    input.observed.kind === 'gradient' ? input.observed.numExamples || input.payload.training.batchSize : input.payload.training.batchSize,
  );
  const ratios = unitRatios(kernel, bias);
  if (ratios.length === 0) throw new Error('analytic: every first-layer bias gradient is zero; the update reveals no input');

  let chosen: Float32Array[];
  if (batch === 1) {
    chosen = [ratios[0].image];
  } else {
    const clusters = clusterRatios(ratios);
    const recurring = clusters.filter((c) => c.units.length >= 2).slice(0, batch);
    chosen = (recurring.length > 0 ? recurring : clusters.slice(0, 1)).map((c) => c.image);
  }
  const images = new Float32Array(chosen.length * size);
  chosen.forEach((img, j) => {
    for (let k = 0; k < size; k++) images[j * size + k] = Math.min(1, Math.max(0, img[k]));
  });

  // Labels from the logit layer: a fedavg delta is −lr·gradient after one step.
  const gradient =
    input.observed.kind === 'gradient' ? input.observed.update : input.observed.update.map((v) => -v / input.payload.training.learningRate);
  const params = unflattenParams(input.payload.params, model.specs);
  let labels: number[];
  try {
    labels = inferLabels({ model, params, gradient, count: batch, seed: input.seed }).slice(0, chosen.length);
  } finally {
    tf.dispose(params);
  }
  return {
    images,
    count: chosen.length,
    labels,
    iterations: 0,
    evaluations: 0,
    finalObjective: 0,
    seconds: (performance.now() - started) / 1000,
  };
};

/** Settings: the common scenario fields (settings.ts). */
export const analyticSettings = builtinAttackEntry('analytic');

export const analyticAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'analytic',
  settings: analyticSettings,
  run: analytic,
  requires: () => ['updates', 'architecture'],
  modelProblem: (model) =>
    firstProblemOf(
      model.firstDenseLayer === null
        ? `model "${model.name}" has no dense first layer with bias (analytic recovery divides the first layer's weight gradient by its bias gradient); use model.name "mlp"`
        : null,
      logitLayerProblem(model, 'analytic'),
    ),
};
