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
import { RESULTS_FORMAT, type AttackRecord, type RunResults } from './results';
import { folderAssets } from './assets';
import { runTraces, writeCharts } from './chart-files';
import { writeLabelledGrid } from './labelled-grid';
import { renderReportHtml } from './report-html';
import { summaryMarkdown } from './summary';
import { writeTraces, type RestartMap, type TraceMap } from './traces';
import { deriveVerdict, type ReportVerdict } from './verdict';

export const REPORT_HTML = 'report.html';

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
      if (typeof round[key] !== 'number') return `rounds[${i}].${key} must be a number`;
    }
    if (!Array.isArray(round.participants) || !Array.isArray(round.dropped)) return `rounds[${i}]: participants and dropped must be arrays`;
  }
  for (const [i, attack] of results.attacks.entries()) {
    for (const key of ['round', 'batchSize', 'mse', 'psnr', 'ssim', 'labelAccuracy', 'iterations', 'seconds'] as const) {
      // A failed attack's metrics are NaN in memory and null once read back from JSON.
      const unscored = attack.error !== undefined && attack[key] === null && METRICS.has(key);
      if (typeof attack[key] !== 'number' && !unscored) return `attacks[${i}].${key} must be a number`;
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

export interface ReportOptions {
  /** The verdict to print first; default the one derived from the figures (server/report/verdict.ts). */
  verdict?: ReportVerdict;
  /** Where warnings go (a picture that could not be labelled); default stderr. */
  warn?: (line: string) => void;
  /** Class names by label index (image-folder data), for the captions; default the indices. */
  classNames?: readonly string[];
  /** Iterations where each attack's restarts 2, 3, … began, keyed like the traces (kept beside them). */
  restarts?: RestartMap;
}

/** Each attack with its labelled grid beside its comparison picture (a failure only loses the labels). */
async function labelAttacks(outDir: string, attacks: readonly AttackRecord[], options: ReportOptions): Promise<{ attacks: AttackRecord[]; files: string[] }> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const files: string[] = [];
  const labelled: AttackRecord[] = [];
  for (const a of attacks) {
    // Re-derived every time: a sweep copies its variants' records, whose paths are relative to the variant folder.
    const record: AttackRecord = { ...a };
    delete record.labelledImage;
    try {
      const rel = await writeLabelledGrid(outDir, record, writeFileAtomic, options.classNames);
      if (rel) files.push(path.join(outDir, rel));
      labelled.push(rel ? { ...record, labelledImage: rel } : record);
    } catch (err) {
      warn(`report: no labelled grid for ${a.image}: ${err instanceof Error ? err.message : String(err)}`);
      labelled.push(record);
    }
  }
  return { attacks: labelled, files };
}

/**
 * The derived files of a report: labelled grids, charts (curves/*.svg and *.png), the objective
 * traces and report.html. Works on partial results (mid-run). Returns the results with
 * `labelledImage` and `images` filled in, and the files written.
 */
export async function writeReportFiles(
  outDir: string,
  results: RunResults,
  traces: TraceMap = new Map(),
  options: ReportOptions = {},
): Promise<{ results: RunResults; files: string[] }> {
  const labelled = await labelAttacks(outDir, results.attacks, options);
  const tracesFile = writeTraces(outDir, traces, options.restarts ?? new Map(), writeFileAtomic);
  const used = traces.size > 0 ? { traces, restarts: options.restarts ?? new Map<string, number[]>() } : runTraces(outDir, results);
  const withLabels = { ...results, attacks: labelled.attacks };
  const charts = await writeCharts(outDir, withLabels, used.traces, used.restarts, writeFileAtomic);
  const rel = (f: string) => path.relative(outDir, f).split(path.sep).join('/');
  const images = [
    ...new Set([
      ...(results.images ?? []),
      ...labelled.attacks.flatMap((a) => [a.image, a.labelledImage].filter((i): i is string => i !== undefined)),
      ...charts.map((c) => rel(c.pngFile)),
    ]),
  ];
  const final: RunResults = { ...withLabels, images };
  const html = path.join(outDir, REPORT_HTML);
  const assets = folderAssets(outDir, new Map(charts.map((c) => [c.name, c.svg])));
  writeFileAtomic(html, renderReportHtml(final, options.verdict ?? deriveVerdict(final), assets));
  const chartFiles = charts.flatMap((c) => [c.svgFile, c.pngFile]);
  return { results: final, files: [html, ...chartFiles, ...labelled.files, ...(tracesFile ? [tracesFile] : [])] };
}

/**
 * The whole report: the derived files, summary.md, then results.json (last, so its presence
 * means the report is complete). Returns the files written (absolute paths), results.json first.
 */
export async function writeReport(outDir: string, results: RunResults, traces: TraceMap = new Map(), options: ReportOptions = {}): Promise<string[]> {
  const report = await writeReportFiles(outDir, results, traces, options);
  const summary = path.join(outDir, 'summary.md');
  writeFileAtomic(summary, summaryMarkdown(report.results));
  return [writeResults(outDir, report.results), summary, ...report.files];
}
