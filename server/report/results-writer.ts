/**
 * Writes a run's results.json (format "fedleak-results/1", docs/results.md) atomically: a reader
 * never sees a half-written file, a crash leaves the previous one intact.
 *
 * Usage:
 *   const results = assembleResults({ scenario, scenarioFile, backend, startedAt, rounds, attacks });
 *   writeResults(outDir, results);                     // <outDir>/results.json
 *   await writeReport(outDir, results, observer.traces());   // + summary.md, report.html, curves/*.svg|png
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_FORMAT, type RunResults } from './results';
import { writeFileAtomic } from './atomic-write';
import { writeReportFiles, type ReportOptions } from './report-writer';
import { summaryMarkdown } from './summary';
import { resultsVerdict } from './run-verdict';
import type { TraceMap } from './traces';

export { writeFileAtomic } from './atomic-write';

export type ResultsParts = Omit<RunResults, 'format' | 'fedleakVersion' | 'finishedAt'> & {
  fedleakVersion?: string;
  finishedAt?: string;
};

/** fedleak's version from package.json (this file lives in dist/server/report/ or server/report/). */
export function fedleakVersion(): string {
  for (const up of [
    ['..', '..', '..'],
    ['..', '..'],
  ]) {
    const file = path.resolve(__dirname, ...up, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'fedleak' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** Fills in the format tag, version and finish time. */
export function assembleResults(parts: ResultsParts): RunResults {
  const verdict = resultsVerdict(parts);
  const results: RunResults = {
    format: RESULTS_FORMAT,
    verdict,
    ...parts,
    fedleakVersion: parts.fedleakVersion ?? fedleakVersion(),
    finishedAt: parts.finishedAt ?? new Date().toISOString(),
  };
  // Parts may carry an earlier verdict (the journal's, before the release step): the one from these parts wins,
  // in its place right after `format`.
  results.verdict = verdict;
  return results;
}

const METRICS = new Set<string>(['mse', 'psnr', 'ssim', 'labelAccuracy']);

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
      // Accuracy and loss are NaN (null in JSON) when the server holds no test data.
      const unmeasured = (key === 'testAccuracy' || key === 'testLoss') && round[key] === null;
      if (typeof round[key] !== 'number' && !unmeasured) return `rounds[${i}].${key} must be a number`;
    }
    if (!Array.isArray(round.participants) || !Array.isArray(round.dropped)) return `rounds[${i}]: participants and dropped must be arrays`;
  }
  for (const [i, attack] of results.attacks.entries()) {
    for (const key of ['round', 'batchSize', 'mse', 'psnr', 'ssim', 'labelAccuracy', 'iterations', 'seconds'] as const) {
      // A failed attack's metrics are NaN in memory and null once read back from JSON.
      const unscored = (attack.error !== undefined || attack.unscored !== undefined) && attack[key] === null && METRICS.has(key);
      if (typeof attack[key] !== 'number' && !unscored) return `attacks[${i}].${key} must be a number`;
    }
    for (const key of ['target', 'attack', 'view'] as const) {
      if (typeof attack[key] !== 'string') return `attacks[${i}].${key} must be a string`;
    }
  }
  return null;
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
 * The whole report: the derived files, summary.md, then results.json (last, so its presence
 * means the report is complete). Returns the files written (absolute paths), results.json first.
 */
export async function writeReport(
  outDir: string,
  results: RunResults,
  traces: TraceMap = new Map(),
  options: ReportOptions = {},
): Promise<string[]> {
  const report = await writeReportFiles(outDir, results, traces, options);
  const summary = path.join(outDir, 'summary.md');
  writeFileAtomic(summary, summaryMarkdown(report.results));
  return [writeResults(outDir, report.results), summary, ...report.files];
}
