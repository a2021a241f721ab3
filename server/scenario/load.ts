/** Finds, reads, overrides and validates scenario files, with errors a person can act on. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeIssue, failWith, ScenarioError } from '../../shared/scenario/errors';
import { publicScenarioProblems } from '../../shared/scenario/public';
import { aggregationProblems } from '../strategy/aggregation';
import { scenarioSchema, type Scenario } from './schema';
import { isPluginAttack, parsePluginSettings, type PluginAttackConfig } from './attack-schema';
import { loadAttackPlugin, type AttackDefinition } from '../observer/attacks';
import { attackProblems, crossFieldProblems } from './cross-checks';

export { ScenarioError } from '../../shared/scenario/errors';

/** scenarios/ of the installed package (dist/server/scenario → ../../../scenarios). */
export const BUILTIN_SCENARIO_DIR = path.resolve(__dirname, '..', '..', '..', 'scenarios');

/** A scenario file's description, or a note that it cannot be read. */
function describeFile(file: string): string {
  try {
    return String((JSON.parse(fs.readFileSync(file, 'utf8')) as { description?: unknown }).description ?? '');
  } catch {
    return '(unreadable scenario file)';
  }
}

export function listBuiltinScenarios(): { name: string; description: string; file: string }[] {
  if (!fs.existsSync(BUILTIN_SCENARIO_DIR)) return [];
  return fs
    .readdirSync(BUILTIN_SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(BUILTIN_SCENARIO_DIR, f);
      return { name: f.replace(/\.json$/, ''), description: describeFile(file), file };
    });
}

/**
 * A built-in scenario's own data files ship in scenarios/data/: its relative `data.path` is relative to
 * the scenarios folder, so it runs from any directory. Other files keep paths relative to the current
 * directory (docs/data.md), and a `--set data.path=…` override is applied afterwards, as written.
 */
function resolveBuiltinDataPath(file: string, obj: Record<string, unknown>): void {
  if (path.dirname(file) !== BUILTIN_SCENARIO_DIR) return;
  const data = obj.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return;
  const d = data as Record<string, unknown>;
  if (typeof d.path === 'string' && !path.isAbsolute(d.path)) d.path = path.join(BUILTIN_SCENARIO_DIR, d.path);
}

/** A path to a file, or the name of a built-in scenario. */
export function resolveScenarioFile(nameOrPath: string): string {
  const candidates = [nameOrPath, path.join(BUILTIN_SCENARIO_DIR, nameOrPath), path.join(BUILTIN_SCENARIO_DIR, `${nameOrPath}.json`)];
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return path.resolve(c);
  }
  const names = listBuiltinScenarios().map((s) => s.name);
  throw new ScenarioError(
    `no scenario "${nameOrPath}": it is neither a file nor a built-in scenario. Built-in scenarios: ${names.join(', ') || '(none)'}. ` +
      'Run `fedleak scenarios` to list them with descriptions.',
  );
}

/** Parses `path=value` (value JSON, or a bare string when it is not JSON). */
export function parseOverride(text: string): { path: string; value: unknown } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ScenarioError(`--set "${text}": expected path=value, e.g. --set federation.rounds=5`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/.test(key)) {
    throw new ScenarioError(`--set "${text}": "${key}" is not a dotted path like federation.rounds`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path: key, value };
}

/** Sets a dotted path inside a plain JSON object, creating objects on the way. */
export function applyOverride(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = target;
  keys.slice(0, -1).forEach((k, i) => {
    const next = node[k];
    if (next === undefined) node[k] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      throw new ScenarioError(`cannot set ${dotted}: ${keys.slice(0, i + 1).join('.')} is not an object`);
    }
    node = node[k] as Record<string, unknown>;
  });
  node[keys[keys.length - 1]] = value;
}

/** Validates a parsed scenario object; `source` names the file (or origin) in errors. */
export function validateScenario(raw: unknown, source: string, options: { baseDir?: string } = {}): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (!result.success)
    failWith(
      source,
      result.error.issues.map((i) => describeIssue(i)),
    );
  const problems = [...publicScenarioProblems(result.data), ...aggregationProblems(result.data), ...crossFieldProblems(result.data, raw)];
  if (problems.length) failWith(source, problems);
  const s = result.data;
  if (isPluginAttack(s.attack)) {
    const resolved = resolvePluginAttack(s.attack, source, options.baseDir ?? process.cwd());
    s.attack = resolved;
    const pluginProblems = attackProblems(s, loadAttackPlugin(resolved.plugin).find((d) => d.name === resolved.name) ?? null);
    if (pluginProblems.length) failWith(source, pluginProblems);
  }
  return s;
}

/**
 * A plug-in attack entry with its module found (relative to the scenario file) and loaded, and its
 * `settings` validated by the plug-in's own schema; the result names the module by absolute path.
 */
export function resolvePluginAttack(attack: PluginAttackConfig, source: string, baseDir: string): PluginAttackConfig {
  const file = path.resolve(baseDir, attack.plugin);
  let definitions: AttackDefinition[];
  try {
    definitions = loadAttackPlugin(file);
  } catch (err) {
    failWith(source, [`attack.plugin: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const definition = definitions.find((d) => d.name === attack.name);
  if (!definition)
    failWith(source, [
      `attack.name: "${attack.name}" is not in plug-in ${file}, which exports ${definitions.map((d) => `"${d.name}"`).join(', ')}`,
    ]);
  const { settings, problems } = parsePluginSettings(definition, attack.settings);
  if (problems.length) failWith(source, problems);
  return { ...attack, plugin: file, settings: settings as Record<string, unknown> };
}

/** JSON.parse's message, plus line and column when it only gives a character position. */
function jsonErrorWithLocation(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /at position (\d+)/.exec(message);
  if (!m || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** The JSON as written, with overrides applied, before defaults. */
  raw: Record<string, unknown>;
}

export function loadScenario(nameOrPath: string, overrides: string[] = [], seed?: number): LoadedScenario {
  const file = resolveScenarioFile(nameOrPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`scenario file ${file} is not valid JSON: ${jsonErrorWithLocation(text, err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScenarioError(`scenario file ${file} must hold a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  resolveBuiltinDataPath(file, obj);
  for (const o of overrides) {
    const { path: p, value } = parseOverride(o);
    applyOverride(obj, p, value);
  }
  if (seed !== undefined) obj.seed = seed;
  // Name the command-line overrides too: a bad value may come from them rather than the file.
  const applied = [...overrides.map((o) => `--set ${o}`), ...(seed !== undefined ? [`--seed ${seed}`] : [])];
  const source = applied.length ? `${file} (with ${applied.join(', ')})` : file;
  return { scenario: validateScenario(obj, source, { baseDir: path.dirname(file) }), file, raw: obj };
}
