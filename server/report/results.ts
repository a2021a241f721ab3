/**
 * results.json, format "fedleak-results/1": the public, versioned output of a run.
 * Documented in docs/results.md; change a field only with a new format version.
 */
import type { Scenario } from '../scenario/schema';
import type { ReleaseResults } from '../release/schema';

export const RESULTS_FORMAT = 'fedleak-results/1';

export interface RoundRecord {
  round: number;
  /** Client ids selected for the round. */
  participants: string[];
  /** Selected clients whose update did not arrive (disconnected, timed out, rejected). */
  dropped: string[];
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  /** Bytes of each accepted update frame, by client id. */
  updateBytes?: Record<string, number>;
  privacy?: PrivacyRecord;
  secureAggregation?: SecureAggregationRecord;
}

export interface PrivacyRecord {
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

export interface SecureAggregationRecord {
  threshold: number;
  survivors: string[];
  dropped: string[];
  maxAbsError: number;
  clippedValues: number;
  aborted?: string;
}

export type AttackView = 'plain' | 'masked' | 'aggregate';

export interface PerImageScore {
  /** Index into trueLabels / the true batch; −1 when this reconstruction was left unmatched. */
  original: number;
  /** NaN (null in JSON) when unmatched. */
  mse: number;
  psnr: number;
  ssim: number;
}

export interface AttackRecord {
  round: number;
  /** Client id, or "aggregate". */
  target: string;
  attack: string;
  view: AttackView;
  batchSize: number;
  mse: number;
  psnr: number;
  ssim: number;
  labelAccuracy: number;
  /** Optimizer steps (L-BFGS steps for dlg). */
  iterations: number;
  /** Objective evaluations (value + gradient). */
  evaluations: number;
  finalObjective: number;
  seconds: number;
  /** PNG of originals (top) beside reconstructions (bottom), relative to the run folder. */
  image?: string;
  /**
   * The same pairs with their figures written under them (PSNR, SSIM, true → recovered label),
   * worst first, relative to the run folder; written by the report (server/report/labelled-grid.ts).
   */
  labelledImage?: string;
  recoveredLabels?: number[];
  trueLabels?: number[];
  /**
   * One entry per reconstruction, in reconstruction order: the true-batch index it was matched to
   * and that pair's figures. The means above can hide one failed image in an otherwise exact batch.
   */
  perImage?: PerImageScore[];
  /** Sweep row label, when the scenario is a sweep. */
  variant?: string;
  /** Under server-side DP-FedAvg: the L2 norm the server clipped this update to before the attack saw it. */
  serverClippedTo?: number;
  /** Set when the attack or its scoring failed; the metric fields are then NaN (null in JSON). */
  error?: string;
}

export interface SweepRow {
  variant: string;
  overrides: Record<string, unknown>;
  finalTestAccuracy: number;
  /** The first row's finalTestAccuracy minus this row's (put the undefended variant first). */
  accuracyCost?: number;
  attack: { mse: number; psnr: number; ssim: number; labelAccuracy: number; count: number } | null;
  privacy?: PrivacyRecord;
  /** The variant's attacks on its released model (release.attacks), in order. */
  release?: { access: 'white-box' | 'black-box'; masking: string; classAccuracy: number; queries: number }[];
}

export interface RunResults {
  format: typeof RESULTS_FORMAT;
  fedleakVersion: string;
  startedAt: string;
  finishedAt: string;
  scenario: Scenario;
  scenarioFile: string;
  backend: { name: string; reason: string; fastKernels: boolean; tfjsVersion: string };
  rounds: RoundRecord[];
  attacks: AttackRecord[];
  /** Present for sweeps: one row per variant, defence cost next to its benefit. */
  sweep?: SweepRow[];
  privacy?: PrivacyRecord;
  images?: string[];
  /** The released model and the attacks on it through its outputs, when the scenario has `release` (docs/release.md). */
  release?: ReleaseResults;
}
