/**
 * Client-side defences on the update, run as a chain of mods in `defenses.order` (see
 * docs/defenses.md). The observer sees the defended update, as a real server would.
 */
import { ScenarioError } from '../../shared/scenario/errors';
import type { DefensesConfig } from '../../shared/scenario/public';
import type { ParamSpec } from '../../shared/models/types';
import type { Rng } from '../../shared/random';
import type { ClientModConfigs } from '../../shared/mods/registry';
import { CLIENT_MODS, type ClientModName } from './registry';
import { chainMods } from './chain';
import type { ClientMod, ClientUpdate, StageReport } from './types';

export type { ClientModName } from './registry';
export { CLIENT_MODS } from './registry';
export { chainMods } from './chain';
export { finiteGuard } from './finite';
export type { ClientMod, ClientUpdate, ModContext, Next, StageReport } from './types';

export interface DefenseReport {
  /** Per defence name: what it did (e.g. norm before/after, zeroed count). */
  [defense: string]: StageReport;
}

/**
 * The configured client defences in the order they run: those of `defenses.order` that are set.
 * Throws a ScenarioError when a defence is set but not in the order, or listed twice.
 */
export function clientDefensePlan(config: DefensesConfig): ClientModName[] {
  const seen = new Set<ClientModName>();
  for (const name of config.order) {
    if (seen.has(name)) throw new ScenarioError(`defenses.order lists "${name}" twice; each defence runs at most once`);
    seen.add(name);
  }
  const names = Object.keys(CLIENT_MODS) as ClientModName[];
  const missing = names.filter((n) => config[n] !== undefined && !seen.has(n));
  if (missing.length) {
    throw new ScenarioError(
      `defenses.${missing[0]} is set but defenses.order [${config.order.join(', ')}] does not list it; add it to the order or remove it`,
    );
  }
  return config.order.filter((n) => config[n] !== undefined);
}

function modFor<K extends ClientModName>(name: K, config: DefensesConfig): ClientMod {
  return CLIENT_MODS[name](config[name] as ClientModConfigs[K]);
}

/** The configured defence mods, in `defenses.order`. */
export function defenseMods(config: DefensesConfig): ClientMod[] {
  return clientDefensePlan(config).map((name) => modFor(name, config));
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
  let out: ClientUpdate | null = null;
  const report: DefenseReport = {};
  const run = chainMods(defenseMods(config), (u) => (out = u));
  run({ round: 0, kind: 'gradient', numExamples: 1, values: update.slice() }, { rng, specs, report });
  const result = out as ClientUpdate | null;
  if (!result) throw new Error('client defences: a mod did not pass the update on');
  return { update: result.values, report };
}
