/**
 * The attacks' objective traces, kept beside the charts (<out>/curves/objective-traces.json) so
 * that `fedleak report DIR` can redraw the objective chart from the run folder alone.
 * Also infers where restarts began, when the record proves it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scenario } from '../scenario/schema';
import type { ObjectiveTrace } from './charts';
import type { AttackRecord } from './results';

export const TRACES_FILE = path.join('curves', 'objective-traces.json');
const TRACES_FORMAT = 'fedleak-traces/1';

export type TraceMap = ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>;

/** Iterations where restarts 2, 3, … of each attack began, keyed like the traces (when the attack reports them). */
export type RestartMap = ReadonlyMap<string, readonly number[]>;

export function writeTraces(
  outDir: string,
  traces: TraceMap,
  restarts: RestartMap,
  write: (file: string, text: string) => void,
): string | null {
  if (traces.size === 0) return null;
  const file = path.join(outDir, TRACES_FILE);
  write(file, `${JSON.stringify({ format: TRACES_FORMAT, traces: Object.fromEntries(traces), restarts: Object.fromEntries(restarts) })}\n`);
  return file;
}

/** The restart starts a run folder's traces file holds (written when the caller passed them). */
export function readRestarts(outDir: string): Map<string, number[]> {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(outDir, TRACES_FILE), 'utf8')) as { restarts?: unknown };
    if (typeof parsed.restarts !== 'object' || parsed.restarts === null) return new Map();
    return new Map(
      Object.entries(parsed.restarts).flatMap(([key, starts]) =>
        Array.isArray(starts) ? [[key, starts.filter((v): v is number => typeof v === 'number')] as [string, number[]]] : [],
      ),
    );
  } catch {
    return new Map();
  }
}

/** The traces a run folder holds; an empty map when there are none or the file is not ours. */
export function readTraces(outDir: string): Map<string, Array<[number, number]>> {
  const file = path.join(outDir, TRACES_FILE);
  if (!fs.existsSync(file)) return new Map();
  let parsed: { format?: unknown; traces?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown; traces?: unknown };
  } catch {
    return new Map(); // a damaged traces file costs the objective chart, not the report
  }
  if (parsed.format !== TRACES_FORMAT || typeof parsed.traces !== 'object' || parsed.traces === null) return new Map();
  const isPoint = (p: unknown): p is [number, number] => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number');
  const out = new Map<string, Array<[number, number]>>();
  for (const [key, t] of Object.entries(parsed.traces)) if (Array.isArray(t)) out.set(key, t.filter(isPoint));
  return out;
}

/**
 * The trace key of a record: its comparison image's path without the images/ folder and the
 * extension ("round-1-c0-plain"; in a sweep "<variant>/round-1-c0-plain").
 */
export function traceKey(record: AttackRecord): string | null {
  if (!record.image) return null;
  const parts = record.image.replace(/\.png$/, '').split('/');
  return parts.filter((p, i) => !(p === 'images' && i === parts.length - 2)).join('/');
}

/**
 * Iterations at which restarts 2…R began, only when the record proves the restarts were of equal
 * length: an L-BFGS attack (dlg, idlg) runs at most `iterations` steps per restart, so a total of
 * R × iterations means every restart ran all of them; inverting-gradients without `stopBelow`
 * never stops early, so its restarts have the same planned length. Otherwise none (nothing guessed).
 */
export function restartStarts(record: AttackRecord, attack: Scenario['attack']): number[] {
  const restarts = attack.restarts;
  if (restarts <= 1 || !(record.iterations > 0)) return [];
  let perRestart = 0;
  if (record.iterations === restarts * attack.iterations) perRestart = attack.iterations;
  else if (record.attack === 'inverting-gradients' && attack.stopBelow === undefined && record.iterations % restarts === 0)
    perRestart = record.iterations / restarts;
  if (perRestart === 0) return [];
  return Array.from({ length: restarts - 1 }, (_, k) => (k + 1) * perRestart);
}

/**
 * Chart input: each trace named like its record (round, target, view, variant), with restart marks:
 * those the attack reported (`restarts`), else those the record proves (restartStarts above).
 */
export function objectiveTraces(
  traces: TraceMap,
  attacks: readonly AttackRecord[],
  attack: Scenario['attack'],
  restarts: RestartMap = new Map(),
  limit = 10,
): ObjectiveTrace[] {
  const out: ObjectiveTrace[] = [];
  for (const [key, points] of traces) {
    if (points.length === 0 || out.length >= limit) continue;
    const record = attacks.find((a) => traceKey(a) === key);
    const name = record
      ? `round ${record.round} ${record.target}${record.view === 'plain' ? '' : ` (${record.view})`}${record.variant ? ` [${record.variant}]` : ''}`
      : key;
    out.push({ name, points, restartStarts: restarts.get(key) ?? (record ? restartStarts(record, attack) : []) });
  }
  return out;
}
