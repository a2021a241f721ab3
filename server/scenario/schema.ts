/**
 * The scenario schema: every knob a run has. Field names are a public contract (docs/scenarios.md).
 * Validated with zod; unknown fields are errors so that a typo never silently does nothing.
 * Server-side: clients receive only the public part (shared/scenario/public.ts).
 */
import { z } from 'zod';
import { defensesSchema, federationSchema as publicFederationSchema, publicScenarioShape } from '../../shared/scenario/public';
import { aggregationSchema } from '../strategy/aggregation';
import { attackSchema } from './attack-schema';
import { threatModelSchema } from '../observer/threat-model';
import { clientSchema, serverSchema } from './malicious-schema';
import { releaseSchema } from '../release/schema';

export {
  attackSchema,
  builtinAttackSchema,
  pluginAttackSchema,
  type AttackConfig,
  type BuiltinAttackConfig,
  type PluginAttackConfig,
} from './attack-schema';

export { dataSchema, type DataConfig } from '../../shared/data/schema';
export { initSchema, modelSchema, type ModelConfig } from '../../shared/models/schema';
export {
  defensesSchema,
  dpSchema,
  secureAggregationSchema,
  type DefensesConfig,
  type DpConfig,
  type SecureAggregationConfig,
} from '../../shared/scenario/public';
export { aggregationSchema, type AggregationConfig } from '../strategy/aggregation';

/**
 * The federation as the server reads it: the public fields plus server-only ones clients never see
 * (publicScenario strips them): the aggregation rule (server/strategy/aggregation, composed from its
 * registry) and the cap on an update's declared example count.
 */
export const federationSchema = publicFederationSchema.extend({
  aggregation: aggregationSchema,
  /** The most examples one update may claim (its weight in a weighted mean); default the shard size the server assigned. */
  maxExamplesPerUpdate: z.number().int().positive().optional(),
  /** With no client connected at a round's start, wait this long for one to (re)connect, then end the run "aborted". */
  reconnectTimeoutMs: z.number().int().positive().default(60000),
});

/** Keys of `federation` the server keeps to itself. */
export const SERVER_ONLY_FEDERATION_KEYS = ['aggregation', 'maxExamplesPerUpdate', 'reconnectTimeoutMs'] as const;

export type FederationConfig = z.infer<typeof federationSchema>;

export { clientSchema, serverSchema, type ClientConfig, type ServerConfig } from './malicious-schema';

export const sweepEntrySchema = z.strictObject({
  label: z.string().min(1),
  /** Dotted-path overrides applied to this scenario for this row, like `--set`. */
  set: z.record(z.string(), z.unknown()),
});

export const scenarioSchema = z.strictObject({
  ...publicScenarioShape,
  federation: federationSchema.default(federationSchema.parse({})),
  attack: attackSchema.default(attackSchema.parse({})),
  defenses: defensesSchema.default(defensesSchema.parse({})),
  /** What the server does to the model it sends (honest, imprint, trap-weights): docs/scenarios.md. */
  server: serverSchema.default({ behaviour: 'honest' }),
  /** The simulated clients' own guards (client.guards). */
  client: clientSchema.default({ guards: [] }),
  /** What the attacker is granted: a SoK letter A–H or a capability list (server/observer/threat-model.ts); default "C". */
  threatModel: threatModelSchema,
  /** After the last round: serve the final global model behind the prediction API and attack it (docs/release.md). */
  release: releaseSchema.optional(),
  /** Run the scenario once per entry with its overrides; results get one table row each. */
  sweep: z.array(sweepEntrySchema).optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
