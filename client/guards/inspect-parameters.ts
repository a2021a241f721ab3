/**
 * Guard core: does a received model carry parameters crafted to leak (a malicious server's planted
 * layer, architecture unchanged)? Pure: specs + flat parameters in, a verdict out.
 *
 * Every weight tensor is read as units (output columns of a dense kernel [in, out]; output channels of
 * a conv kernel [kh, kw, in, out]) with the 1-D bias that follows it, if any. Three rules, each a
 * pattern an honest random initialisation or ordinary training essentially never produces:
 *
 * 1. duplicated units: two non-zero units with cosine similarity ≥ 0.99 (imprint blocks: every row is
 *    the same query; their back-projection repeats 1/gain). Random units in ≥ 8 dimensions have
 *    |cos| ≪ 0.99 and SGD keeps distinct units distinct; layers with fewer than 8 inputs are skipped.
 * 2. bias ladder: the biases of a layer with ≥ 16 units are (almost) sorted by unit index, Kendall
 *    |τ| ≥ 0.9 (imprint: −c_i at increasing CDF quantiles). For random biases τ has sd ≈ 0.19 at 16
 *    units and shrinks with more, so 0.9 lies ≥ 4.9 sd out.
 * 3. sign-balanced units: in a layer with ≥ 8 units and ≥ 64 inputs, at least half of the units have
 *    exactly as many positive as negative weights (trap weights: half −m, half +factor·m). For a
 *    random unit the chance is about 0.8/√inputs (0.03 at 784), so half of the units is far out.
 *
 * Measured (tools/eval/guard-eval.ts): 0 of 1600 honest initialisations flagged (8 built-in model
 * configurations × 200 seeds), none during 100 SGD steps of an MLP on MNIST; every imprint block
 * (avg / fourier, 64–512 bins) and every trap-weight layer (factor 0.95 or calibrated) flagged.
 *
 * Known limits: the rules target the published constructions; a server that perturbs its rows,
 * shuffles its bins and unbalances its signs by a few weights evades them (an arms race). Pinning
 * the model definition (model-hash) does not help here: the architecture is unchanged.
 */
import type { ParamSpec } from '../../shared/models/types';

export interface InspectionVerdict {
  suspicious: boolean;
  /** One sentence per finding ("" when clean). */
  reason: string;
  findings: Finding[];
}

export interface Finding {
  rule: 'duplicated-units' | 'bias-ladder' | 'sign-balanced-units';
  tensor: string;
  detail: string;
}

export const DUPLICATE_COSINE = 0.99;
export const LADDER_TAU = 0.9;
export const BALANCED_FRACTION = 0.5;
/** Units compared pairwise per tensor (the first ones): bounds the cost at ~1024²/2 dot products. */
export const MAX_UNITS_COMPARED = 1024;

interface UnitLayer {
  name: string;
  kernel: Float32Array;
  inputs: number;
  units: number;
  bias: Float32Array | null;
}

function layers(specs: readonly ParamSpec[], params: Float32Array): UnitLayer[] {
  const total = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (params.length !== total) throw new Error(`inspect-parameters: ${params.length} parameters received, the specs describe ${total}`);
  const out: UnitLayer[] = [];
  let offset = 0;
  specs.forEach((spec, i) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.shape.length === 2 || spec.shape.length === 4) {
      const units = spec.shape[spec.shape.length - 1];
      const next = specs[i + 1];
      const bias =
        next && next.shape.length === 1 && next.shape[0] === units ? params.subarray(offset + size, offset + size + units) : null;
      out.push({ name: spec.name, kernel: params.subarray(offset, offset + size), inputs: size / units, units, bias });
    }
    offset += size;
  });
  return out;
}

function duplicatedUnits(layer: UnitLayer): string | null {
  const { inputs, kernel } = layer;
  const units = Math.min(layer.units, MAX_UNITS_COMPARED);
  if (inputs < 8 || units < 2) return null;
  const normalised = new Float64Array(units * inputs);
  const live: number[] = [];
  for (let u = 0; u < units; u++) {
    let norm = 0;
    for (let j = 0; j < inputs; j++) norm += kernel[j * layer.units + u] ** 2;
    if (norm === 0) continue;
    live.push(u);
    const s = 1 / Math.sqrt(norm);
    for (let j = 0; j < inputs; j++) normalised[u * inputs + j] = kernel[j * layer.units + u] * s;
  }
  let pairs = 0;
  let example = '';
  for (let a = 0; a < live.length; a++) {
    for (let b = a + 1; b < live.length; b++) {
      let dot = 0;
      const ua = live[a] * inputs;
      const ub = live[b] * inputs;
      for (let j = 0; j < inputs; j++) dot += normalised[ua + j] * normalised[ub + j];
      if (dot >= DUPLICATE_COSINE) {
        if (pairs === 0) example = `units ${live[a]} and ${live[b]} (cosine ${dot.toFixed(4)})`;
        pairs++;
      }
    }
  }
  return pairs === 0 ? null : `${pairs} pairs of near-identical units, e.g. ${example}`;
}

/** Kendall's τ between unit index and bias (ties count as neither concordant nor discordant). */
export function kendallTauWithIndex(values: ArrayLike<number>): number {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(values[j] - values[i]);
  return (2 * s) / (n * (n - 1));
}

function biasLadder(layer: UnitLayer): string | null {
  if (!layer.bias || layer.units < 16) return null;
  const tau = kendallTauWithIndex(layer.bias);
  return Math.abs(tau) >= LADDER_TAU
    ? `biases ${tau < 0 ? 'fall' : 'rise'} with the unit index like a CDF ladder (Kendall τ ${tau.toFixed(3)})`
    : null;
}

function signBalancedUnits(layer: UnitLayer): string | null {
  if (layer.units < 8 || layer.inputs < 64) return null;
  let balanced = 0;
  for (let u = 0; u < layer.units; u++) {
    let pos = 0;
    let neg = 0;
    for (let j = 0; j < layer.inputs; j++) {
      const w = layer.kernel[j * layer.units + u];
      if (w > 0) pos++;
      else if (w < 0) neg++;
    }
    if (pos === neg && pos > 0) balanced++;
  }
  return balanced >= BALANCED_FRACTION * layer.units
    ? `${balanced} of ${layer.units} units have exactly as many positive as negative weights (trap-weight pattern)`
    : null;
}

export function inspectParameters(specs: readonly ParamSpec[], params: Float32Array): InspectionVerdict {
  const findings: Finding[] = [];
  for (const layer of layers(specs, params)) {
    const checks: [Finding['rule'], string | null][] = [
      ['duplicated-units', duplicatedUnits(layer)],
      ['bias-ladder', biasLadder(layer)],
      ['sign-balanced-units', signBalancedUnits(layer)],
    ];
    for (const [rule, detail] of checks) if (detail) findings.push({ rule, tensor: layer.name, detail });
  }
  return { suspicious: findings.length > 0, reason: findings.map((f) => `${f.tensor}: ${f.detail}`).join('; '), findings };
}
