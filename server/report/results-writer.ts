/**
 * Writes a run's results.json (format "fedleak-results/1", docs/results.md) atomically: a reader
 * never sees a half-written file, a crash leaves the previous one intact.
 *
 * Usage:
 *   const results = assembleResults({ scenario, scenarioFile, backend, startedAt, rounds, attacks });
 *   writeResults(outDir, results);                     // <outDir>/results.json
 *   writeReport(outDir, results, observer.traces());   // + summary.md and curves/*.png
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_FORMAT, type RunResults } from './results';
import { writeCurves } from './curves';
import { summaryMarkdown } from './summary';

export type ResultsParts = Omit<RunResults, 'format' | 'fedleakVersion' | 'finishedAt'> & {
  fedleakVersion?: string;
  finishedAt?: string;
};

/** fedleak's version from package.json (this file lives in dist/server/report/ or server/report/). */
export function fedleakVersion(): string {
  for (const up of [['..', '..', '..'], ['..', '..']]) {
    const file = path.resolve(__dirname, ...up, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'fedleak' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** Fills in the format tag, version and finish time. */
export function assembleResults(parts: ResultsParts): RunResults {
  return {
    ...parts,
    format: RESULTS_FORMAT,
    fedleakVersion: parts.fedleakVersion ?? fedleakVersion(),
    finishedAt: parts.finishedAt ?? new Date().toISOString(),
  };
}

/** Names the first required field that is missing or of the wrong type; null when all is well. */
export function checkResults(results: RunResults): string | null {
  const r = results as unknown as Record<string, unknown>;
  if (r.format !== RESULTS_FORMAT) return `format must be "${RESULTS_FORMAT}", got ${JSON.stringify(r.format)}`;
  for (const key of ['fedleakVersion', 'startedAt', 'finishedAt', 'scenarioFile'] as const) {
    if (typeof r[key] !== 'string') return `${key} must be a string`;
  }
  if (typeof r.scenario !== 'object' || r.scenario === null) return 'scenario must be an object';
  if (typeof r.backend !== 'object' || r.backend === null) return 'backend must be an object';
  if (!Array.isArray(r.rounds)) return 'rounds must be an array';
  if (!Array.isArray(r.attacks)) return 'attacks must be an array';
  for (const [i, round] of results.rounds.entries()) {
    for (const key of ['round', 'testAccuracy', 'testLoss', 'seconds'] as const) {
      if (typeof round[key] !== 'number') return `rounds[${i}].${key} must be a number`;
    }
    if (!Array.isArray(round.participants) || !Array.isArray(round.dropped)) return `rounds[${i}]: participants and dropped must be arrays`;
  }
  for (const [i, attack] of results.attacks.entries()) {
    for (const key of ['round', 'batchSize', 'mse', 'psnr', 'ssim', 'labelAccuracy', 'iterations', 'seconds'] as const) {
      if (typeof attack[key] !== 'number') return `attacks[${i}].${key} must be a number`;
    }
    for (const key of ['target', 'attack', 'view'] as const) {
      if (typeof attack[key] !== 'string') return `attacks[${i}].${key} must be a string`;
    }
  }
  return null;
}

/** Writes `text` to `file` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(file: string, text: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes <outDir>/results.json and returns its path. Non-finite numbers (NaN metrics of a failed
 * attack, an infinite PSNR) become null, as JSON has no other spelling for them.
 */
export function writeResults(outDir: string, results: RunResults): string {
  const problem = checkResults(results);
  if (problem) throw new Error(`results.json not written: ${problem}`);
  const file = path.join(outDir, 'results.json');
  writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/**
 * The charts, summary.md, then results.json (last, so its presence means the report is complete),
 * with `images` listing the attack pictures and charts unless the caller set it. Returns the files
 * written (absolute paths), results.json first.
 */
export function writeReport(
  outDir: string,
  results: RunResults,
  traces: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>> = new Map(),
): string[] {
  const curves = writeCurves(outDir, results, traces);
  const summary = path.join(outDir, 'summary.md');
  writeFileAtomic(summary, summaryMarkdown(results));
  const images = results.images ?? [
    ...results.attacks.flatMap((a) => (a.image ? [a.image] : [])),
    ...curves.map((f) => path.relative(outDir, f).split(path.sep).join('/')),
  ];
  return [writeResults(outDir, { ...results, images }), summary, ...curves];
}
