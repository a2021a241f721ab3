/**
 * The scenario's `attack` section, composed from the attack registry: a discriminated union on
 * `name` of the built-in attacks' entries (and "none"), or a plug-in entry — `plugin` names the
 * module (relative to the scenario file), `settings` are checked by the plug-in's own schema when
 * the scenario is loaded (`pluginSettingsProblems`). An entry without `name` means "none".
 */
import { z } from 'zod';
import { BUILTIN_ATTACKS } from '../observer/attacks';
import { attackTargetingShape, attackTuningShape, builtinAttackEntry } from '../observer/attacks/settings';
import type { AttackDefinition } from '../observer/attacks/types';

const builtinEntries = [builtinAttackEntry('none'), ...BUILTIN_ATTACKS.map((d) => builtinAttackEntry(d.name))] as const;

export const builtinAttackSchema = z.discriminatedUnion('name', builtinEntries);

export const pluginAttackSchema = z.strictObject({
  name: z.string().min(1),
  /** The plug-in module (.js, CommonJS); relative paths are relative to the scenario file. */
  plugin: z.string().min(1),
  /** The plug-in attack's own settings, validated by its schema. */
  settings: z.record(z.string(), z.unknown()).default({}),
  ...attackTuningShape,
  ...attackTargetingShape,
});

export type BuiltinAttackConfig = z.infer<typeof builtinAttackSchema>;
export type PluginAttackConfig = z.infer<typeof pluginAttackSchema>;
export type AttackConfig = BuiltinAttackConfig | PluginAttackConfig;

function withDefaultName(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'name' in value || 'plugin' in value) return value;
  return { ...value, name: 'none' };
}

export const attackSchema = z.unknown().transform((value, ctx): AttackConfig => {
  const input = withDefaultName(value);
  const isPlugin = typeof input === 'object' && input !== null && 'plugin' in input;
  const result = isPlugin ? pluginAttackSchema.safeParse(input) : builtinAttackSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return result.data;
});

export function isPluginAttack(config: AttackConfig): config is PluginAttackConfig {
  return 'plugin' in config;
}

/** What an attack's function receives as settings: a built-in its entry, a plug-in `attack.settings`. */
export function attackSettingsOf(config: AttackConfig): unknown {
  return isPluginAttack(config) ? config.settings : config;
}

/**
 * Validates a plug-in entry's `settings` with its definition's schema: the parsed settings, or one
 * "attack.settings.<path>: <what>" line per problem.
 */
export function parsePluginSettings(definition: AttackDefinition, settings: unknown): { settings: unknown; problems: string[] } {
  const result = definition.settings.safeParse(settings);
  if (result.success) return { settings: result.data, problems: [] };
  const problems = result.error.issues.map((i) => {
    const where = ['attack', 'settings', ...i.path.map(String)].join('.');
    return `${where}: ${i.message.replace(/^Invalid input: /, '')}`;
  });
  return { settings, problems };
}
