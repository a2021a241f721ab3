/**
 * The derived files of a report — labelled grids, charts, objective traces, report.html — from a
 * run's results (finished or partial). results-writer.ts's writeReport adds summary.md and
 * results.json; `fedleak report` calls writeReportFiles alone.
 *
 * Usage: const { results, files } = await writeReportFiles(outDir, results, traces, { verdict });
 */
import * as path from 'node:path';
import type { AttackRecord, RunResults } from './results';
import { folderAssets } from './assets';
import { writeFileAtomic } from './atomic-write';
import { runTraces, writeCharts } from './chart-files';
import { writeLabelledGrid } from './labelled-grid';
import { renderReportHtml } from './report-html';
import { writeTraces, type RestartMap, type TraceMap } from './traces';
import { deriveVerdict, type ReportVerdict } from './verdict';

export const REPORT_HTML = 'report.html';

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
async function labelAttacks(
  outDir: string,
  attacks: readonly AttackRecord[],
  options: ReportOptions,
): Promise<{ attacks: AttackRecord[]; files: string[] }> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const files: string[] = [];
  const labelled: AttackRecord[] = [];
  for (const a of attacks) {
    // Re-derived every time: a sweep copies its variants' records, whose paths are relative to the variant folder.
    const record: AttackRecord = { ...a };
    delete record.labelledImage;
    // An unscored picture holds reconstructions only: there is no pair to label.
    if (record.unscored !== undefined) {
      labelled.push(record);
      continue;
    }
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
