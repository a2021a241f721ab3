/**
 * The scenario schema: every knob a run has. Field names are a public contract (docs/scenarios.md).
 * Validated with zod; unknown fields are errors so that a typo never silently does nothing.
 * Server-side: clients receive only the public part (shared/scenario/public.ts).
 */
import { z } from 'zod';
import { defensesSchema, publicScenarioShape } from '../../shared/scenario/public';

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

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

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

export const sweepEntrySchema = z.strictObject({
  label: z.string().min(1),
  /** Dotted-path overrides applied to this scenario for this row, like `--set`. */
  set: z.record(z.string(), z.unknown()),
});

export const scenarioSchema = z.strictObject({
  ...publicScenarioShape,
  attack: attackSchema.default(attackSchema.parse({})),
  defenses: defensesSchema.default(defensesSchema.parse({})),
  /** Run the scenario once per entry with its overrides; results get one table row each. */
  sweep: z.array(sweepEntrySchema).optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type AttackConfig = Scenario['attack'];
