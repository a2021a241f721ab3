/**
 * Settings schemas of attacks. Every scenario `attack` entry has the targeting fields (which rounds,
 * how many targets, how many workers) and the optimisation fields the built-in attacks share; a
 * built-in attack's entry is those with its `name`, a plug-in's adds `plugin` and its own
 * `settings` (validated by the plug-in's schema, server/scenario/attack-schema.ts).
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** Which updates are attacked, and where: the observer's fields, common to every attack. */
export const attackTargetingShape = {
  /** Rounds whose updates are attacked (1-based). */
  rounds: z.array(positiveInt).default([1]),
  /** Attack at most this many client updates per round; 0 = every participant. */
  maxTargets: nonNegativeInt.default(0),
  /** Worker threads for attacks. */
  workers: positiveInt.default(2),
};

/** Optimisation fields shared by the built-in attacks (each reads the ones it uses). */
export const attackTuningShape = {
  /** dlg: L-BFGS steps (each up to 20 inner iterations); Adam-based attacks: optimizer steps. */
  iterations: positiveInt.default(300),
  restarts: positiveInt.default(1),
  learningRate: z.number().positive().optional(),
  tvWeight: z.number().nonnegative().default(1e-4),
  /** inverting-gradients: dummy pixels start N(mean, std²), then the first projection clips them into [0, 1]. */
  init: z.strictObject({ mean: z.number().default(0), std: z.number().nonnegative().default(1) }).default({ mean: 0, std: 1 }),
  /** dlg: L-BFGS line search. */
  lineSearch: z.enum(['none', 'strong-wolfe']).default('none'),
  /** Stop early when the objective falls below this (iDLG: 1e-6). */
  stopBelow: z.number().nonnegative().optional(),
  /**
   * inverting-gradients: weight of the batch-norm statistics prior (DeepInversion's ‖μ(x̂) − μ‖ + ‖σ²(x̂) − σ²‖
   * per layer, against the statistics the update reveals); needs the batchnorm-statistics capability.
   */
  bnStatisticsWeight: z.number().nonnegative().optional(),
};

/**
 * The scenario entry of a built-in attack: its name with the common fields, in the order scenarios
 * have always resolved to (results.json repeats it).
 */
export function builtinAttackEntry<N extends string>(name: N) {
  const t = attackTuningShape;
  const g = attackTargetingShape;
  return z.strictObject({
    name: z.literal(name),
    iterations: t.iterations,
    restarts: t.restarts,
    learningRate: t.learningRate,
    tvWeight: t.tvWeight,
    init: t.init,
    lineSearch: t.lineSearch,
    rounds: g.rounds,
    maxTargets: g.maxTargets,
    workers: g.workers,
    stopBelow: t.stopBelow,
    bnStatisticsWeight: t.bnStatisticsWeight,
  });
}

/** The settings every built-in attack reads (its scenario entry). */
export type BuiltinAttackSettings = z.infer<ReturnType<typeof builtinAttackEntry<string>>>;

/**
 * What a plug-in's settings schema must offer: zod's `safeParse` (a zod schema qualifies; so does
 * anything with the same result shape), so plug-ins need not share fedleak's copy of zod.
 */
export interface SettingsSchema<S> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: S }
    | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }> } };
}
