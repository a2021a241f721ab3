/**
 * Attack registry: scenario `attack.name` → definition (name, settings schema, function). Adding a
 * built-in attack is one file exporting its AttackDefinition plus one line here; plug-ins register
 * theirs at run time (plugins.ts). The scenario's `attack` schema is composed from the built-ins
 * (server/scenario/attack-schema.ts).
 */
import type { Attack, AttackDefinition } from './types';
import { dlgAttack } from './dlg';
import { idlgAttack } from './idlg';
import { invertingGradientsAttack } from './inverting-gradients';
import { analyticAttack } from './analytic';
import { imprintAttack } from './imprint';
import { trapWeightsAttack } from './trap-weights';
import { cocktailPartyAttack } from './cocktail-party/attack';
import { loadAttackPlugin } from './plugins';

export const BUILTIN_ATTACKS = [
  dlgAttack,
  idlgAttack,
  invertingGradientsAttack,
  analyticAttack,
  imprintAttack,
  trapWeightsAttack,
  cocktailPartyAttack,
] as const;

export type BuiltinAttackName = (typeof BUILTIN_ATTACKS)[number]['name'];

const registry = new Map<string, AttackDefinition>(BUILTIN_ATTACKS.map((d) => [d.name, d as AttackDefinition]));

/** Adds (or replaces, for a plug-in using a built-in's name) an attack in this thread's registry. */
export function registerAttack(definition: AttackDefinition): void {
  registry.set(definition.name, definition);
}

/** Loads a plug-in module and registers its attacks; returns their names. */
export function registerAttackPlugin(file: string): string[] {
  return loadAttackPlugin(file).map((d) => {
    registerAttack(d);
    return d.name;
  });
}

export function attackNames(): string[] {
  return [...registry.keys()];
}

export function getAttackDefinition(name: string): AttackDefinition {
  const definition = registry.get(name);
  if (!definition) throw new Error(`attack.name: unknown attack "${name}"; known: ${attackNames().join(', ')}`);
  return definition;
}

export function getAttack(name: string): Attack<unknown> {
  return getAttackDefinition(name).run;
}

export * from './types';
export { AttackPluginError, loadAttackPlugin } from './plugins';
