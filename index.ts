/**
 * fedleak as a library: `import { runScenario, loadScenario, attacks } from 'fedleak'`.
 * A thin, typed face over the same code the CLI runs (docs/api.md); nothing here is CLI-only.
 */
import * as path from 'node:path';
import { runScenario as runOne, type RunOptions as InternalRunOptions } from './server/run';
import { runSweep } from './server/run/sweep';
import { prepareOutDir } from './server/run/out-dir';
import { listBuiltinScenarios, loadScenario as loadScenarioFile, type LoadedScenario } from './server/scenario/load';
import { attackNames, getAttackDefinition, registerAttack, registerAttackPlugin } from './server/observer/attacks';
import type { AttackDefinition } from './server/observer/attacks';
import { createRunEvents, type RunEvents } from './server/report/events';
import type { RunResults } from './server/report/results';

export type { LoadedScenario } from './server/scenario/load';
export type { Scenario } from './server/scenario/schema';
export type { RunResults, RoundRecord, AttackRecord, SweepRow } from './server/report/results';
export type { Attack, AttackDefinition, AttackInput, AttackOutput, AttackProgress } from './server/observer/attacks';
export type { RunEvents, RunEventMap, AttackStartEvent, AttackProgressEvent, AttackDoneEvent } from './server/report/events';
export { ScenarioError } from './server/scenario/load';
export { createRunEvents };
export { startDashboard, type Dashboard, type DashboardOptions } from './server/dashboard/server';

export interface LoadScenarioOptions {
  /** Field overrides as the CLI's --set takes them: "federation.rounds=2" (value is JSON). */
  set?: string[];
  seed?: number;
}

/** Reads and validates a scenario: a built-in name (see `scenarios()`) or a JSON file path. Throws ScenarioError naming the field. */
export function loadScenario(nameOrPath: string, options: LoadScenarioOptions = {}): LoadedScenario {
  return loadScenarioFile(nameOrPath, options.set ?? [], options.seed);
}

/** The built-in scenarios: name, description, file. */
export function scenarios(): { name: string; description: string; file: string }[] {
  return listBuiltinScenarios();
}

export interface RunScenarioOptions {
  /** Output folder (results.json, report.html, images); created when missing. */
  outDir: string;
  /** Empty a non-empty outDir first; otherwise a non-empty folder is refused. Default false. */
  overwrite?: boolean;
  /** Progress bars / lines on stderr. Default false. */
  progress?: boolean;
  /** Listen to the run as it happens (rounds, attack progress, reconstructions). */
  events?: RunEvents;
  /** Where log lines go; default stderr. */
  log?: (line: string) => void;
}

/**
 * Runs a scenario end to end — server, real client processes on loopback, attacks — and writes
 * results.json, report.html and the images into outDir. A scenario with `sweep` runs every variant.
 */
export async function runScenario(scenario: string | LoadedScenario, options: RunScenarioOptions): Promise<RunResults> {
  const loaded = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const outDir = path.resolve(options.outDir);
  prepareOutDir(outDir, { overwrite: options.overwrite ?? false });
  const internal: InternalRunOptions = {
    outDir,
    progress: options.progress ?? false,
    events: options.events ?? createRunEvents(),
    ...(options.log ? { log: options.log } : {}),
  };
  return loaded.scenario.sweep ? runSweep(loaded, internal) : runOne(loaded, internal);
}

/** The attack registry: built-ins (dlg, idlg, inverting-gradients, analytic) and whatever is registered. */
export const attacks = {
  names: (): string[] => attackNames(),
  get: (name: string): AttackDefinition => getAttackDefinition(name),
  /** Adds an attack for runs in this process (attack workers load plug-ins by file: prefer `plugin`). */
  register: (definition: AttackDefinition): void => registerAttack(definition),
  /** Loads a plug-in module file and registers its attacks; returns their names. */
  plugin: (file: string): string[] => registerAttackPlugin(file),
};
