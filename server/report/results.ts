/**
 * results.json, format "fedleak-results/1": the public, versioned output of a run.
 * Documented in docs/results.md; change a field only with a new format version.
 */
import type { Scenario } from '../scenario/schema';
import type { ResultsVerdict } from './run-verdict';
import type { EffectiveConfiguration } from './effective-config';
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
  /** The aggregation rule and everything the server did to individual updates or to the aggregate. */
  aggregation?: AggregationRecord;
  /** Clients whose own guard (client.guards) refused this round's model: they sat the round out. */
  refusals?: GuardRefusal[];
}

/** docs/results.md "aggregation": present when the rule is not `mean` or something was capped, clipped or rejected. */
export interface AggregationRecord {
  /** federation.aggregation with its settings, e.g. "median" or "krum(f=1, m=1)". */
  rule: string;
  /** Per update: examples-capped / clipped / rejected, with the reason. */
  adjustments: Array<{ client: string; action: 'examples-capped' | 'clipped' | 'rejected'; reason: string }>;
  /** Set when the round's aggregate was refused (e.g. non-finite) and the global model kept. */
  rejectedAggregate?: string;
}

/** A client guard's refusal, as the client's `error` 'guard-refused' reply to round.start said it. */
export interface GuardRefusal {
  round: number;
  client: string;
  guard: string;
  reason: string;
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
  /** Examples behind the update (an aggregate: Σ over its contributors). */
  batchSize: number;
  /** Dummy slots the attack reconstructed; fewer than batchSize only when `truncated`. */
  attackedSlots?: number;
  /** Set when a cap made the attack reconstruct fewer slots than the examples behind the update. */
  truncated?: boolean;
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
  /**
   * Median over the true examples of NVFlare's relative data leakage value: (best matched SSIM − SSIM of
   * a uniform grey image) / SSIM of the grey image; 0 = no better than the starting guess.
   */
  rdlv?: number;
  /** The threat model the attack ran under: the granted preset (or "custom") and what the attack needed. */
  threatModel?: AttackThreatModel;
  /** Sweep row label, when the scenario is a sweep. */
  variant?: string;
  /** Under server-side DP-FedAvg: the L2 norm the server clipped this update to before the attack saw it. */
  serverClippedTo?: number;
  /**
   * Malicious-server attacks (imprint, trap-weights): how many of the `of` true examples have a
   * matched reconstruction at PSNR ≥ `psnrDb` (issue 18's measure, 30 dB).
   */
  recovered?: { psnrDb: number; count: number; of: number };
  /** Set when the attack or its scoring failed; the metric fields are then NaN (null in JSON). */
  error?: string;
  /**
   * Set when the attack ran but its reconstruction could not be scored: no ground truth reached the
   * server (client-held data without --share-truth). Says why; the metrics are NaN (null in JSON),
   * `image` shows the reconstructions alone.
   */
  unscored?: string;
}

/** An attack whose metrics were measured: it neither failed nor went unscored. */
export function isScored(a: Pick<AttackRecord, 'error' | 'unscored'>): boolean {
  return a.error === undefined && a.unscored === undefined;
}

export interface AttackThreatModel {
  /** SoK letter A–H, or "custom" for an explicit capability list. */
  name: string;
  granted: string[];
  /** What the attack declared it needs, all within `granted` (the run refuses it otherwise). */
  required: string[];
}

/** One attack on a sweep variant's released model: classAccuracy for mi-face, attribute figures for attribute-inference. */
export interface SweepReleaseCell {
  /** Absent in files written before attribute inference (then mi-face). */
  attack?: 'mi-face' | 'attribute-inference';
  access: 'white-box' | 'black-box';
  masking: string;
  classAccuracy?: number;
  attributeAccuracy?: number;
  baselineAccuracy?: number;
  queries: number;
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
  release?: SweepReleaseCell[];
}

/** running: rewritten after each round / attack; interrupted: SIGINT/SIGTERM; aborted: no client came back. */
export type RunStatus = 'running' | 'finished' | 'interrupted' | 'aborted';

export interface RunResults {
  format: typeof RESULTS_FORMAT;
  /** One sentence and its counts: how many targets and examples leaked, under which threat model, with which defences. */
  verdict?: ResultsVerdict;
  /** How the run ended (or that it is still going); absent in files written before durable runs. */
  status?: RunStatus;
  /** Why the run was aborted or interrupted. */
  stopReason?: string;
  fedleakVersion: string;
  startedAt: string;
  finishedAt: string;
  scenario: Scenario;
  /** The configuration as it applied: data shape and classes read from the data, the model's own fields only. */
  effective?: EffectiveConfiguration;
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
