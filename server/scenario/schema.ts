/**
 * The scenario schema: every knob a run has. Field names are a public contract (docs/scenarios.md).
 * Validated with zod; unknown fields are errors so that a typo never silently does nothing.
 * Server-side: clients receive only the public part (shared/scenario/public.ts).
 */
import { z } from 'zod';
import { defensesSchema, publicScenarioShape } from '../../shared/scenario/public';
import { attackSchema } from './attack-schema';
import { releaseSchema } from '../release/schema';

export { attackSchema, builtinAttackSchema, pluginAttackSchema, type AttackConfig, type BuiltinAttackConfig, type PluginAttackConfig } from './attack-schema';

export { dataSchema, type DataConfig } from '../../shared/data/schema';
export { initSchema, modelSchema, type ModelConfig } from '../../shared/models/schema';
export {
  defensesSchema,
  dpSchema,
  federationSchema,
  secureAggregationSchema,
  type DefensesConfig,
  type DpConfig,
  type FederationConfig,
  type SecureAggregationConfig,
} from '../../shared/scenario/public';

export const sweepEntrySchema = z.strictObject({
  label: z.string().min(1),
  /** Dotted-path overrides applied to this scenario for this row, like `--set`. */
  set: z.record(z.string(), z.unknown()),
});

export const scenarioSchema = z.strictObject({
  ...publicScenarioShape,
  attack: attackSchema.default(attackSchema.parse({})),
  defenses: defensesSchema.default(defensesSchema.parse({})),
  /** After the last round: serve the final global model behind the prediction API and attack it (docs/release.md). */
  release: releaseSchema.optional(),
  /** Run the scenario once per entry with its overrides; results get one table row each. */
  sweep: z.array(sweepEntrySchema).optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
