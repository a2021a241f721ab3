/**
 * Curious Abandon Honesty (Boenisch et al. 2023): "trap weights" for the first dense layer, the
 * architecture unchanged. Each unit gets half of its inputs at −|N(0, scale²)| and the other half at
 * +positiveFactor × the same magnitudes (paired, positions shuffled), bias 0. With non-negative inputs
 * (pixels) the positive side is slightly weaker, so a unit fires for few examples; a unit fired by
 * one example only gives that example exactly as ∇W_i / ∇b_i (Phong et al.).
 *
 * Layout: fedleak's dense kernel [inputs, units]; bias [units].
 */
import type { Model } from '../../shared/models/types';
import { splitFlat } from '../../shared/models/params';
import { Rng } from '../../shared/random';

export interface TrapWeightOptions {
  inputs: number;
  units: number;
  /** Std of the normal the magnitudes are drawn from. Default 0.5 (the reference). */
  scale?: number;
  /** Positive weights are this factor × their paired negative magnitude. Default 0.95. */
  positiveFactor?: number;
}

export interface TrapSecrets {
  kind: 'trap-weights';
  inputs: number;
  units: number;
  scale: number;
  positiveFactor: number;
  /** Seed of the Rng that drew the weights: the server can redraw them. */
  seed: number;
}

export interface TrapLayer {
  kernel: Float32Array;
  bias: Float32Array;
  secrets: TrapSecrets;
}

export function trapWeights(options: TrapWeightOptions, rng: Rng): TrapLayer {
  const { inputs, units } = options;
  const scale = options.scale ?? 0.5;
  const factor = options.positiveFactor ?? 0.95;
  if (!Number.isInteger(inputs) || inputs < 2) throw new Error(`trap weights: inputs must be an integer ≥ 2, got ${inputs}`);
  if (!Number.isInteger(units) || units < 1) throw new Error(`trap weights: units must be a positive integer, got ${units}`);
  if (!(scale > 0)) throw new Error(`trap weights: scale must be positive, got ${scale}`);
  if (!(factor > 0)) throw new Error(`trap weights: positiveFactor must be positive, got ${factor}`);
  const kernel = new Float32Array(inputs * units);
  const half = Math.floor(inputs / 2);
  for (let u = 0; u < units; u++) {
    const order = rng.shuffle(Array.from({ length: inputs }, (_, j) => j));
    for (let p = 0; p < half; p++) {
      const m = Math.abs(rng.normal(0, scale));
      kernel[order[p] * units + u] = -m;
      kernel[order[half + p] * units + u] = factor * m;
    }
    // An odd input count leaves one input at 0.
  }
  return {
    kernel,
    bias: new Float32Array(units),
    secrets: { kind: 'trap-weights', inputs, units, scale, positiveFactor: factor, seed: rng.seed },
  };
}

/** Replaces the model's first dense layer in a flat parameter vector; other parameters untouched. */
export function plantTrapWeights(
  model: Model,
  params: Float32Array,
  rng: Rng,
  options: Omit<TrapWeightOptions, 'inputs' | 'units'> = {},
): { params: Float32Array; secrets: TrapSecrets } {
  const first = model.firstDenseLayer;
  if (!first) throw new Error(`trap weights: model "${model.name}" has no dense first layer with bias`);
  const [inputs, units] = model.specs[first.kernel].shape;
  const layer = trapWeights({ inputs, units, ...options }, rng);
  const out = Float32Array.from(params);
  const parts = splitFlat(out, model.specs);
  parts[first.kernel].set(layer.kernel);
  parts[first.bias].set(layer.bias);
  return { params: out, secrets: layer.secrets };
}

/**
 * The positive factor that makes a trapped unit fire for a fraction `targetRate` of public examples
 * (best near 1/batch: a unit then most often catches exactly one example). Unit u fires for x when
 * factor·P_u(x) > N_u(x) (P, N: the positive and negative sides at factor 1), so the factor is the
 * targetRate-quantile of the ratios N_u(x)/P_u(x). The weights are those `trapWeights` draws from
 * `new Rng(seed)`, so build the layer with the same seed.
 */
export function calibrateTrapFactor(
  options: Omit<TrapWeightOptions, 'positiveFactor'>,
  seed: number,
  publicImages: Float32Array,
  count: number,
  targetRate: number,
): number {
  if (!(targetRate > 0 && targetRate < 1)) throw new Error(`trap weights: targetRate must lie in (0, 1), got ${targetRate}`);
  const { inputs, units } = options;
  if (publicImages.length !== count * inputs)
    throw new Error(`trap weights: ${publicImages.length} public values are not ${count} examples of ${inputs}`);
  const layer = trapWeights({ ...options, positiveFactor: 1 }, new Rng(seed));
  const ratios: number[] = [];
  const pos = new Float64Array(units);
  const neg = new Float64Array(units);
  for (let n = 0; n < count; n++) {
    pos.fill(0);
    neg.fill(0);
    for (let j = 0; j < inputs; j++) {
      const x = publicImages[n * inputs + j];
      if (x === 0) continue;
      for (let u = 0; u < units; u++) {
        const w = layer.kernel[j * units + u] * x;
        if (w > 0) pos[u] += w;
        else neg[u] -= w;
      }
    }
    for (let u = 0; u < units; u++) ratios.push(pos[u] > 0 ? neg[u] / pos[u] : Number.POSITIVE_INFINITY);
  }
  ratios.sort((a, b) => a - b);
  const at = Math.min(ratios.length - 1, Math.floor(targetRate * ratios.length));
  const factor = ratios[at];
  if (!Number.isFinite(factor)) throw new Error('trap weights: the public examples are too sparse to calibrate the factor');
  return factor;
}
