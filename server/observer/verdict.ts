/**
 * Verdicts a reader can act on: per example "recognisable" when its matched SSIM reaches a
 * threshold (default 0.6), NVFlare's relative data leakage value against the attack's starting
 * image, and one sentence per run saying how many targets and examples leaked, under which threat
 * model and with which defences.
 */
import type { ImageShape } from '../../shared/models/types';
import { ssim } from '../metrics';

export const DEFAULT_RECOGNISABLE_SSIM = 0.6;

export interface TargetOutcome {
  /** Client id or "aggregate". */
  target: string;
  /** Examples behind the target's update. */
  examples: number;
  /** Matched SSIM of each reconstruction that was paired with an original (NaN: unmatched or failed). */
  matchedSsim: readonly number[];
}

export interface TargetVerdict {
  target: string;
  examples: number;
  recognisable: number;
  leaked: boolean;
}

export function countRecognisable(matchedSsim: readonly number[], threshold = DEFAULT_RECOGNISABLE_SSIM): number {
  checkThreshold(threshold);
  return matchedSsim.filter((s) => Number.isFinite(s) && s >= threshold).length;
}

export function targetVerdict(outcome: TargetOutcome, threshold = DEFAULT_RECOGNISABLE_SSIM): TargetVerdict {
  // A target cannot leak more examples than it has, even if duplicate reconstructions were matched.
  const recognisable = Math.min(outcome.examples, countRecognisable(outcome.matchedSsim, threshold));
  return { target: outcome.target, examples: outcome.examples, recognisable, leaked: recognisable > 0 };
}

export interface RunVerdictInput {
  outcomes: readonly TargetOutcome[];
  /** E.g. "C (honest-but-curious server)". */
  threatModel: string;
  /** Active defences in pipeline order, e.g. ["secure aggregation", "noise σ²=1e-3"]. */
  defences: readonly string[];
  threshold?: number;
}

export interface RunVerdict {
  targets: TargetVerdict[];
  leakedTargets: number;
  leakedExamples: number;
  totalExamples: number;
  sentence: string;
}

export function runVerdict(input: RunVerdictInput): RunVerdict {
  const threshold = input.threshold ?? DEFAULT_RECOGNISABLE_SSIM;
  const targets = input.outcomes.map((o) => targetVerdict(o, threshold));
  const leakedTargets = targets.filter((t) => t.leaked).length;
  const leakedExamples = targets.reduce((s, t) => s + t.recognisable, 0);
  const totalExamples = targets.reduce((s, t) => s + t.examples, 0);
  const defences = input.defences.length > 0 ? `with defences ${input.defences.join(', ')}` : 'with no defences';
  const sentence =
    targets.length === 0
      ? `No update was attacked under threat model ${input.threatModel} ${defences}.`
      : `${leakedTargets} of ${plural(targets.length, 'target')} leaked ${leakedExamples} of ${plural(totalExamples, 'example')} ` +
        `recognisably (matched SSIM ≥ ${threshold}) under threat model ${input.threatModel} ${defences}.`;
  return { targets, leakedTargets, leakedExamples, totalExamples, sentence };
}

/**
 * NVFlare's relative data leakage value for each original x: (max over reconstructions r of
 * SSIM(r, x) − SSIM(prior, x)) / SSIM(prior, x), where the prior is the image the attack starts
 * from. 0 = no better than the starting guess; NaN when the prior's SSIM is not positive.
 */
export function relativeDataLeakage(
  reconstructions: Float32Array,
  originals: Float32Array,
  prior: Float32Array,
  shape: ImageShape,
): number[] {
  const size = shape[0] * shape[1] * shape[2];
  if (prior.length !== size)
    throw new Error(`relativeDataLeakage: the prior has ${prior.length} values, one image of [${shape.join(', ')}] has ${size}`);
  for (const [what, batch] of [
    ['reconstructions', reconstructions],
    ['originals', originals],
  ] as const) {
    if (batch.length === 0 || batch.length % size !== 0)
      throw new Error(`relativeDataLeakage: ${what} has ${batch.length} values, not a positive multiple of ${size}`);
  }
  const image = (b: Float32Array, i: number) => b.subarray(i * size, (i + 1) * size);
  const recCount = reconstructions.length / size;
  return Array.from({ length: originals.length / size }, (_, j) => {
    const x = image(originals, j);
    let best = -Infinity;
    for (let i = 0; i < recCount; i++) best = Math.max(best, ssim(image(reconstructions, i), x, shape));
    const base = ssim(prior, x, shape);
    return base > 0 ? (best - base) / base : Number.NaN;
  });
}

function checkThreshold(t: number): void {
  if (!(t > -1 && t <= 1)) throw new Error(`recognisable threshold must be an SSIM in (−1, 1], got ${t}`);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
