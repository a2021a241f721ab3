/**
 * The `release` scenario section (the released model behind an API, and the attacks on it) and the
 * `release` section of results.json. Self-contained so that the integrator can plug it into
 * shared/scenario/schema.ts (`release: releaseSchema.optional()`) and server/report/results.ts.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** What the API reveals of the class scores (softmax probabilities). */
export const maskingSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('full') }),
  /** Only the k largest scores; the others are null. */
  z.strictObject({ mode: z.literal('top-k'), k: positiveInt }),
  /** Every score rounded to this many decimals (Fredrikson's countermeasure with step r = 10^−decimals). */
  z.strictObject({ mode: z.literal('round'), decimals: z.number().int().min(0).max(8) }),
  /** The predicted label only, no scores. */
  z.strictObject({ mode: z.literal('label-only') }),
]);
export type Masking = z.infer<typeof maskingSchema>;

export const monitorSchema = z.strictObject({
  /** log: record flags only; block: also refuse the key's later requests (403). */
  action: z.enum(['off', 'log', 'block']).default('log'),
  /** Inputs remembered per key for the near-duplicate search. */
  window: positiveInt.default(512),
  /** An input is a probe when its RMS distance to a remembered one is in (0, nearDistance]. */
  nearDistance: z.number().positive().default(0.02),
  /** Flag after this many probes within the window. */
  probeThreshold: positiveInt.default(64),
  /** Flag after this many consecutive requests that move a little and raise one class's score. */
  climbThreshold: positiveInt.default(25),
  /** A climbing step moves the request's first input by at most this RMS distance. */
  climbStep: z.number().positive().default(0.1),
});
export type MonitorConfig = z.infer<typeof monitorSchema>;

export const apiSchema = z.strictObject({
  /** Serve the final global model after the last round (`fedleak run`). */
  enabled: z.boolean().default(true),
  /** Loopback by default; anything else exposes the model to the network. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(0),
  masking: maskingSchema.default({ mode: 'full' }),
  /** Per API key; 0 = unlimited. */
  requestsPerSecond: nonNegativeInt.default(50),
  inputsPerSecond: nonNegativeInt.default(2000),
  /** Largest batch one request may carry. */
  maxBatch: positiveInt.default(256),
  /** API keys generated when the key file does not exist yet. */
  keys: positiveInt.default(1),
  monitor: monitorSchema.default(monitorSchema.parse({})),
});
export type ApiConfig = z.infer<typeof apiSchema>;

/** Gradient estimate of the black-box attack from confidence queries only. */
export const estimatorSchema = z.strictObject({
  /** forward: (c(x+δu)−c(x))/δ·u, one base query + n; antithetic (NES): (c(x+δu)−c(x−δu))/2δ·u, 2n + 1. */
  kind: z.enum(['forward', 'antithetic']).default('forward'),
  /** Random Gaussian directions per gradient estimate. */
  directions: positiveInt.default(20),
  /** Step δ of the differences. */
  delta: z.number().positive().default(1e-3),
});

export const miFaceSchema = z.strictObject({
  name: z.literal('mi-face'),
  access: z.enum(['white-box', 'black-box']).default('white-box'),
  /** Target classes; all when absent. */
  classes: z.array(nonNegativeInt).optional(),
  /** α: maximum gradient steps per class. */
  iterations: positiveInt.default(5000),
  /** β: stop when the cost is no lower than the maximum of the last β costs. */
  patience: positiveInt.default(100),
  /** γ: stop when the cost falls to this value or below (see docs/release.md on the paper's 0.99). */
  costThreshold: z.number().min(0).max(1).default(0.01),
  /** λ: gradient step. */
  stepSize: z.number().positive().default(0.1),
  /** PROCESS after each step: identity (the paper for softmax/MLP) or clip into the [0, 1] pixel box. */
  process: z.enum(['identity', 'clip']).default('clip'),
  /** AuxTerm(x) = auxWeight · mean(x²) (0: no side information, the paper's choice). */
  auxWeight: z.number().nonnegative().default(0),
  estimator: estimatorSchema.default(estimatorSchema.parse({})),
  /** Black-box: give up a class after this many queries (inputs); 0 = no budget. */
  maxQueries: nonNegativeInt.default(0),
  /**
   * Black-box: query a second API instance with this masking (same keys, limits and monitor settings
   * as release.api), so one run measures a masking sweep against one trained model.
   */
  masking: maskingSchema.optional(),
});
export type MiFaceConfig = z.infer<typeof miFaceSchema>;

/** Output evidence the attribute-inference attacker holds about its target (docs/release.md). */
export const attributeEvidenceSchema = z.enum(['label', 'scores', 'both']);
export type AttributeEvidence = z.infer<typeof attributeEvidenceSchema>;

export const attributeInferenceSchema = z.strictObject({
  name: z.literal('attribute-inference'),
  /** The CSV column the attacker infers: categorical (one-hot), or numeric with few distinct values. */
  sensitive: z.string().min(1),
  access: z.enum(['white-box', 'black-box']).default('white-box'),
  /**
   * What the attacker knows of the model's output for the target: its true label (Fredrikson 2014's
   * known dose), the API's (masked) answer for the target's real record, or both.
   */
  evidence: attributeEvidenceSchema.default('label'),
  /** Records attacked per split (training members, held-out non-members), a seeded sample; 0 = all. */
  maxRecords: nonNegativeInt.default(1000),
  /** σ of the Gaussian match between an observed and a candidate score vector (evidence scores/both). */
  scoreNoise: z.number().positive().default(0.01),
  /** Black-box: the masking of the API instance this attacker queries (default release.api.masking). */
  masking: maskingSchema.optional(),
});
export type AttributeInferenceConfig = z.infer<typeof attributeInferenceSchema>;

export const releaseAttackSchema = z.discriminatedUnion('name', [miFaceSchema, attributeInferenceSchema]);
export type ReleaseAttackConfig = z.infer<typeof releaseAttackSchema>;

export const releaseSchema = z.strictObject({
  api: apiSchema.default(apiSchema.parse({})),
  attacks: z.array(releaseAttackSchema).default([]),
  /** Held-out examples sent as benign traffic from a key of their own: the monitor's false positives (results.release.monitor). */
  benignQueries: nonNegativeInt.default(0),
  /** Evaluation classifier: a convnet trained on the held-out split, never on the attacked model's data. */
  evaluator: z
    .strictObject({ epochs: positiveInt.default(8), learningRate: z.number().positive().default(0.05), batchSize: positiveInt.default(32) })
    .default({ epochs: 8, learningRate: 0.05, batchSize: 32 }),
});
export type ReleaseConfig = z.infer<typeof releaseSchema>;

/** One inverted class in results.json. */
export interface ReleaseClassRecord {
  /** Target class. */
  label: number;
  /** Evaluator's prediction for the inversion. */
  predicted: number;
  /** Target model's (unmasked) probability of the label at the returned image. */
  confidence: number;
  /** Lowest cost reached, as the attacker measured it. */
  cost: number;
  iterations: number;
  /** Inputs sent to the API for this class (0 white-box). */
  queries: number;
  /** Best SSIM / PSNR against the class's own training examples, and against all other classes'. */
  ssimOwn: number;
  psnrOwn: number;
  ssimOther: number;
  psnrOther: number;
  /** Index (into the training split) of the own-class example with the best SSIM. */
  nearestIndex: number;
}

export interface MiFaceAttackRecord {
  attack: 'mi-face';
  access: 'white-box' | 'black-box';
  /** full | top-<k> | round-<decimals> | label-only */
  masking: string;
  /** Fraction of the inverted classes the evaluator classifies as their target. */
  classAccuracy: number;
  perClass: ReleaseClassRecord[];
  /** Inputs sent to the API (0 white-box). */
  queries: number;
  /** HTTP requests sent, and how many of them the rate limit refused (429). */
  requests: number;
  rateLimited: number;
  /** Did the query monitor flag this attacker, and after how many of its queries. */
  flagged: boolean;
  flaggedAfterQueries: number | null;
  /** Which detector flagged it (monitor.ts FlagReason). */
  flagReason?: string;
  seconds: number;
  /** Class grid beside the nearest training examples, relative to the run folder. */
  image?: string;
  /** Sweep row label, when the scenario is a sweep. */
  variant?: string;
}

/** Attribute accuracy against the prior-only baseline on one set of records. */
export interface AttributeScore {
  records: number;
  /** Fraction of the records whose sensitive value the MAP estimate got right. */
  attributeAccuracy: number;
  /** Fraction got right by always guessing the most frequent training value. */
  baselineAccuracy: number;
}

export interface AttributeValueRecord {
  /** The value as written in the CSV (numeric columns: the original, unstandardised number). */
  value: string;
  /** Its marginal prior: frequency among the training records. */
  prior: number;
  /** Attacked records holding this value, and how many of them the MAP estimate got right (recall). */
  records: number;
  correct: number;
  /** How often the MAP estimate guessed this value. */
  guessed: number;
}

export interface AttributeAttackRecord extends AttributeScore {
  attack: 'attribute-inference';
  access: 'white-box' | 'black-box';
  masking: string;
  /** The sensitive column and the evidence the attacker held (label | scores | both). */
  sensitive: string;
  evidence: AttributeEvidence;
  /** Training records (members) and held-out records (non-members) separately; the top-level figures pool both. */
  members: AttributeScore;
  nonMembers: AttributeScore;
  perValue: AttributeValueRecord[];
  queries: number;
  requests: number;
  rateLimited: number;
  flagged: boolean;
  flaggedAfterQueries: number | null;
  flagReason?: string;
  seconds: number;
  variant?: string;
}

export type ReleaseAttackRecord = MiFaceAttackRecord | AttributeAttackRecord;

export interface ReleaseResults {
  model: { name: string; testAccuracy: number; params: number };
  evaluator: { testAccuracy: number; trainedOn: number };
  attacks: ReleaseAttackRecord[];
  /** False positives of the query monitor on benign traffic. */
  monitor?: { benignQueries: number; benignFlagged: number };
}

const classRecordSchema = z.strictObject({
  label: nonNegativeInt,
  predicted: nonNegativeInt,
  confidence: z.number(),
  cost: z.number(),
  iterations: nonNegativeInt,
  queries: nonNegativeInt,
  ssimOwn: z.number(),
  psnrOwn: z.number(),
  ssimOther: z.number(),
  psnrOther: z.number(),
  nearestIndex: nonNegativeInt,
});

/** What both kinds of release attack record say of their API traffic and time. */
const apiTrafficShape = {
  queries: nonNegativeInt,
  requests: nonNegativeInt,
  rateLimited: nonNegativeInt,
  flagged: z.boolean(),
  flaggedAfterQueries: nonNegativeInt.nullable(),
  flagReason: z.string().optional(),
  seconds: z.number().nonnegative(),
};

const miFaceRecordSchema = z.strictObject({
  attack: z.literal('mi-face'),
  access: z.enum(['white-box', 'black-box']),
  masking: z.string(),
  classAccuracy: z.number().min(0).max(1),
  perClass: z.array(classRecordSchema),
  ...apiTrafficShape,
  image: z.string().optional(),
  variant: z.string().optional(),
});

const attributeScoreShape = {
  records: nonNegativeInt,
  attributeAccuracy: z.number().min(0).max(1),
  baselineAccuracy: z.number().min(0).max(1),
};

const attributeRecordSchema = z.strictObject({
  attack: z.literal('attribute-inference'),
  access: z.enum(['white-box', 'black-box']),
  masking: z.string(),
  sensitive: z.string(),
  evidence: attributeEvidenceSchema,
  ...attributeScoreShape,
  members: z.strictObject(attributeScoreShape),
  nonMembers: z.strictObject(attributeScoreShape),
  perValue: z.array(
    z.strictObject({ value: z.string(), prior: z.number(), records: nonNegativeInt, correct: nonNegativeInt, guessed: nonNegativeInt }),
  ),
  ...apiTrafficShape,
  variant: z.string().optional(),
});

export const releaseAttackRecordSchema = z.discriminatedUnion('attack', [miFaceRecordSchema, attributeRecordSchema]);

export const releaseResultsSchema = z.strictObject({
  model: z.strictObject({ name: z.string(), testAccuracy: z.number(), params: nonNegativeInt }),
  evaluator: z.strictObject({ testAccuracy: z.number(), trainedOn: nonNegativeInt }),
  attacks: z.array(releaseAttackRecordSchema),
  monitor: z.strictObject({ benignQueries: nonNegativeInt, benignFlagged: nonNegativeInt }).optional(),
});

/** The label a results record and the tables use for a masking. */
export function maskingLabel(m: Masking): string {
  switch (m.mode) {
    case 'full':
    case 'label-only':
      return m.mode;
    case 'top-k':
      return `top-${m.k}`;
    case 'round':
      return `round-${m.decimals}`;
  }
}

/** Parses the command-line spelling: full | label-only | top-K | round-D (also top:K, round:D). */
export function parseMasking(text: string): Masking {
  const t = text.trim();
  if (t === 'full' || t === 'label-only') return { mode: t };
  const m = /^(top|top-k|round)[-:=](\d+)$/.exec(t);
  if (m) {
    const n = Number(m[2]);
    return maskingSchema.parse(m[1] === 'round' ? { mode: 'round', decimals: n } : { mode: 'top-k', k: n });
  }
  throw new Error(`masking "${text}": expected full, label-only, top-K (e.g. top-1) or round-D (e.g. round-2)`);
}
