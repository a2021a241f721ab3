/**
 * Plug-in attacks: a CommonJS module exporting `attack` (one AttackDefinition: name, settings schema,
 * run) or `attacks` (name → definition, or name → function for a plug-in without settings of its own).
 * Loaded by the scenario loader (to validate `attack.settings`), by every attack worker thread and by
 * `fedleak attack --plugin`.
 */
import type { Attack, AttackDefinition } from './types';
import type { SettingsSchema } from './settings';

export class AttackPluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttackPluginError';
  }
}

/** A plug-in attack that takes no settings of its own: anything validates, as given. */
const ANY_SETTINGS: SettingsSchema<unknown> = { safeParse: (value) => ({ success: true, data: value }) };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function definitionOf(file: string, key: string, value: unknown, name?: string): AttackDefinition {
  if (typeof value === 'function') return { name: name ?? key, settings: ANY_SETTINGS, run: value as Attack<unknown> };
  if (!isObject(value) || typeof value.run !== 'function') {
    throw new AttackPluginError(`attack plug-in ${file}: ${key} must be an attack function or { name, settings, run }`);
  }
  const settings = value.settings ?? ANY_SETTINGS;
  if (!isObject(settings) || typeof settings.safeParse !== 'function') {
    throw new AttackPluginError(`attack plug-in ${file}: ${key}.settings must be a zod schema (an object with safeParse)`);
  }
  const own = typeof value.name === 'string' && value.name.length > 0 ? value.name : name;
  if (!own) throw new AttackPluginError(`attack plug-in ${file}: ${key}.name must be a non-empty string`);
  const definition: AttackDefinition = {
    name: own,
    settings: settings as unknown as SettingsSchema<unknown>,
    run: value.run as Attack<unknown>,
  };
  // What it declares it needs (docs/verdicts.md): kept, or the threat-model and model checks would never see it.
  for (const hook of ['requires', 'modelProblem'] as const) {
    if (value[hook] === undefined) continue;
    if (typeof value[hook] !== 'function') throw new AttackPluginError(`attack plug-in ${file}: ${key}.${hook} must be a function`);
    Object.assign(definition, { [hook]: value[hook] });
  }
  return definition;
}

/** The attacks a plug-in module exports (absolute path); throws AttackPluginError naming the file. */
export function loadAttackPlugin(file: string): AttackDefinition[] {
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- plug-ins are named at run time
    mod = require(file);
  } catch (err) {
    // The first line says why; node's require stack after it only names fedleak's own files.
    throw new AttackPluginError(
      `attack plug-in ${file} does not load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
    );
  }
  const exports = isObject(mod) ? mod : {};
  const found: AttackDefinition[] = [];
  if (exports.attack !== undefined) found.push(definitionOf(file, 'attack', exports.attack));
  if (exports.attacks !== undefined) {
    if (!isObject(exports.attacks))
      throw new AttackPluginError(`attack plug-in ${file}: \`attacks\` must be an object of attack name → attack`);
    for (const [name, value] of Object.entries(exports.attacks)) found.push(definitionOf(file, `attacks.${name}`, value, name));
  }
  if (found.length === 0)
    throw new AttackPluginError(`attack plug-in ${file} must export \`attack\` ({ name, settings, run }) or \`attacks\``);
  return found;
}
