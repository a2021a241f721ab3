/**
 * The public part of a scenario: what the server sends clients in `welcome` (everything except the
 * curious server's attack settings and the sweep). Clients validate it with this schema; the full
 * scenario schema and loader are server-side (server/scenario/).
 */
import { z } from 'zod';
import { dataConfigProblems, dataSchema } from '../data/schema';
import { modelSchema } from '../models/schema';
import { modelConfigProblems } from '../models/builtins';
import { clientModsShape } from '../mods/schema';
import { describeIssue, failWith } from './errors';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

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
  /** L2 regularisation in local training: each step descends L + weightDecay/2·‖θ‖² (every parameter); 0 = none. */
  weightDecay: z.number().nonnegative().default(0),
  clientsPerProcess: positiveInt.default(1),
  roundTimeoutMs: positiveInt.default(60000),
  /** Save every received update with its round's global model (msgpack) for `fedleak attack --capture`. */
  capture: z.boolean().default(false),
  /** Evaluate on at most this many test examples each round; 0 = the whole test set. */
  evalLimit: nonNegativeInt.default(0),
  /**
   * The last this-many clients are not spawned: their slots wait for web browsers (the dashboard's
   * draw page, `fedleak run … --dashboard`); registration then waits for them without a timeout.
   */
  browserClients: nonNegativeInt.default(0),
});

export const dpSchema = z.strictObject({
  clippingNorm: z.number().positive(),
  noiseMultiplier: z.number().nonnegative(),
  delta: z.number().gt(0).lt(1).default(1e-5),
});

export const secureAggregationSchema = z.strictObject({
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
});

export const defensesSchema = z.strictObject({
  ...clientModsShape,
  dp: dpSchema.optional(),
  secureAggregation: secureAggregationSchema.optional(),
});

/** The fields every scenario shares with its clients, in the scenario's key order. */
export const publicScenarioShape = {
  name: z.string().min(1),
  description: z.string().default(''),
  seed: nonNegativeInt.default(0),
  data: dataSchema.default(dataSchema.parse({})),
  model: modelSchema.default(modelSchema.parse({})),
  federation: federationSchema.default(federationSchema.parse({})),
};

export const publicScenarioSchema = z.strictObject({
  ...publicScenarioShape,
  defenses: defensesSchema.default(defensesSchema.parse({})),
});

export type PublicScenario = z.infer<typeof publicScenarioSchema>;
export type FederationConfig = z.infer<typeof federationSchema>;
export type DefensesConfig = z.infer<typeof defensesSchema>;
export type SecureAggregationConfig = z.infer<typeof secureAggregationSchema>;
export type DpConfig = z.infer<typeof dpSchema>;

/** Cross-field rules of the public part; one line per problem. */
export function publicScenarioProblems(s: Pick<PublicScenario, 'data' | 'federation' | 'model'>): string[] {
  const problems: string[] = [];
  if (s.federation.browserClients > s.federation.clients) {
    problems.push(`federation.browserClients (${s.federation.browserClients}) exceeds federation.clients (${s.federation.clients})`);
  }
  if (s.federation.clientsPerRound > s.federation.clients) {
    problems.push(`federation.clientsPerRound (${s.federation.clientsPerRound}) exceeds federation.clients (${s.federation.clients})`);
  }
  return [...problems, ...dataConfigProblems(s.data), ...modelConfigProblems(s.model)];
}

/** Validates what a client received as `welcome.scenario`; `source` names the origin in errors. */
export function validatePublicScenario(raw: unknown, source: string): PublicScenario {
  const result = publicScenarioSchema.safeParse(raw);
  if (!result.success)
    failWith(
      source,
      result.error.issues.map((i) => describeIssue(i)),
    );
  const problems = publicScenarioProblems(result.data);
  if (problems.length) failWith(source, problems);
  return result.data;
}
