/**
 * Client-side defences on the update, applied as a pipeline in `defenses.order` (see
 * docs/defenses.md). The observer sees the defended update, as a real server would.
 */
import { ScenarioError } from '../../shared/scenario/errors';
import type { DefensesConfig } from '../../shared/scenario/public';
import type { ParamSpec } from '../../shared/models/types';
import type { Rng } from '../../shared/random';
import { CLIENT_DEFENSES, type ClientDefenseName } from './registry';
import type { Defense, StageReport } from './types';

export type { ClientDefenseName } from './registry';
export { CLIENT_DEFENSES } from './registry';

export interface DefenseReport {
  /** Per defence name: what it did (e.g. norm before/after, zeroed count). */
  [defense: string]: Record<string, number>;
}

/**
 * The configured client defences in the order they run: those of `defenses.order` that are set.
 * Throws a ScenarioError when a defence is set but not in the order, or listed twice.
 */
export function clientDefensePlan(config: DefensesConfig): ClientDefenseName[] {
  const seen = new Set<ClientDefenseName>();
  for (const name of config.order) {
    if (seen.has(name)) throw new ScenarioError(`defenses.order lists "${name}" twice; each defence runs at most once`);
    seen.add(name);
  }
  const names = Object.keys(CLIENT_DEFENSES) as ClientDefenseName[];
  const missing = names.filter((n) => config[n] !== undefined && !seen.has(n));
  if (missing.length) {
    throw new ScenarioError(
      `defenses.${missing[0]} is set but defenses.order [${config.order.join(', ')}] does not list it; add it to the order or remove it`,
    );
  }
  return config.order.filter((n) => config[n] !== undefined);
}

function runStage<K extends ClientDefenseName>(name: K, values: Float32Array, config: DefensesConfig, rng: Rng, specs?: readonly ParamSpec[]): StageReport {
  const defense = CLIENT_DEFENSES[name] as Defense<NonNullable<DefensesConfig[K]>>;
  return defense.apply(values, config[name] as NonNullable<DefensesConfig[K]>, { rng, specs });
}

/**
 * Applies the configured client defences to a copy of `update` (never mutated). `rng` is the
 * client's seeded stream and is advanced by noise; pass one that differs per round. `specs`
 * (the model's parameter specs) give per-tensor boundaries for pruning and int8; without them
 * the update counts as one tensor.
 */
export function applyClientDefenses(
  update: Float32Array,
  config: DefensesConfig,
  rng: Rng,
  specs?: readonly ParamSpec[],
): { update: Float32Array; report: DefenseReport } {
  const plan = clientDefensePlan(config);
  const values = update.slice();
  const report: DefenseReport = {};
  for (const name of plan) report[name] = runStage(name, values, config, rng, specs);
  return { update: values, report };
}
