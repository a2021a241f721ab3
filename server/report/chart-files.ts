/**
 * The run's charts as files: <out>/curves/<name>.svg (for the web and report.html) and
 * <out>/curves/<name>.png (for papers), drawn from results.json and the objective traces.
 *
 *   accuracy, loss     test accuracy / loss per round (a sweep: one line per variant)
 *   attack-objective   attack objective per iteration, log scale, restart boundaries dashed
 *   privacy            ε per round, when differential privacy is on
 *   frontier           a sweep's privacy–utility frontier (leakage against accuracy per variant)
 *
 * Usage: const charts = await writeCharts(outDir, results, traces);
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite/build/index';
import { accuracySpec, frontierSpec, lossSpec, objectiveSpec, privacySpec, type RoundSeries } from './charts';
import { chartSvg, svgToPng } from './chart-render';
import type { RunResults } from './results';
import { objectiveTraces, readRestarts, readTraces, type RestartMap, type TraceMap } from './traces';

export interface ChartFile {
  name: string;
  /** The SVG document (also written to `svgFile`). */
  svg: string;
  svgFile: string;
  pngFile: string;
}

/** A sweep variant's own results, when its folder holds a readable results.json. */
function variantResults(outDir: string, variant: string): RunResults | null {
  const file = path.join(outDir, variant, 'results.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunResults;
  } catch {
    return null; // the sweep table still has its figures; only the per-round lines are missing
  }
}

/** Per-round series: the run's own rounds, or each sweep variant's. */
export function roundSeries(outDir: string, results: RunResults): RoundSeries[] {
  if (!results.sweep) return results.rounds.length > 0 ? [{ name: results.scenario.name, rounds: results.rounds }] : [];
  return results.sweep.flatMap((row) => {
    const rounds = variantResults(outDir, row.variant)?.rounds ?? [];
    return rounds.length > 0 ? [{ name: row.variant, rounds }] : [];
  });
}

/** The objective traces of a run, or of every sweep variant (keys prefixed "<variant>/"), and their restart starts. */
export function runTraces(outDir: string, results: RunResults): { traces: TraceMap; restarts: RestartMap } {
  if (!results.sweep) return { traces: readTraces(outDir), restarts: readRestarts(outDir) };
  const traces = new Map<string, Array<[number, number]>>();
  const restarts = new Map<string, number[]>();
  for (const row of results.sweep) {
    const dir = path.join(outDir, row.variant);
    for (const [key, t] of readTraces(dir)) traces.set(`${row.variant}/${key}`, t);
    for (const [key, r] of readRestarts(dir)) restarts.set(`${row.variant}/${key}`, r);
  }
  return { traces, restarts };
}

/** The specs this run has data for, by file name. */
export function chartSpecs(
  outDir: string,
  results: RunResults,
  traces: TraceMap,
  restarts: RestartMap = new Map(),
): Array<[string, TopLevelSpec]> {
  const name = results.scenario.name;
  const series = roundSeries(outDir, results);
  const specs: Array<[string, TopLevelSpec]> = [];
  // No test set on the server (data.dataset "none"): accuracy was not measured, so no empty chart.
  const measured = series.some((s) => s.rounds.some((r) => Number.isFinite(r.testAccuracy)));
  if (measured) specs.push(['accuracy', accuracySpec(series, name)], ['loss', lossSpec(series, name)]);
  const objective = objectiveTraces(traces, results.attacks, results.scenario.attack, restarts);
  if (objective.length > 0) specs.push(['attack-objective', objectiveSpec(objective, name)]);
  if (series.some((s) => s.rounds.some((r) => r.privacy))) specs.push(['privacy', privacySpec(series, name)]);
  if (results.sweep?.some((r) => r.attack)) specs.push(['frontier', frontierSpec(results.sweep, name)]);
  return specs;
}

/**
 * Writes curves/<name>.svg and .png for every chart the results have data for. `write` puts a
 * file in place (the results writer passes its atomic write).
 */
export async function writeCharts(
  outDir: string,
  results: RunResults,
  traces: TraceMap,
  restarts: RestartMap,
  write: (file: string, data: string | Buffer) => void,
): Promise<ChartFile[]> {
  const files: ChartFile[] = [];
  for (const [name, spec] of chartSpecs(outDir, results, traces, restarts)) {
    const svg = await chartSvg(spec);
    const svgFile = path.join(outDir, 'curves', `${name}.svg`);
    const pngFile = path.join(outDir, 'curves', `${name}.png`);
    write(svgFile, svg);
    write(pngFile, await svgToPng(svg));
    files.push({ name, svg, svgFile, pngFile });
  }
  return files;
}

/** The charts of a run folder as SVG text by name, drawn in memory (nothing written). */
export async function renderCharts(outDir: string, results: RunResults): Promise<Map<string, string>> {
  const charts = new Map<string, string>();
  const kept = runTraces(outDir, results);
  for (const [name, spec] of chartSpecs(outDir, results, kept.traces, kept.restarts)) charts.set(name, await chartSvg(spec));
  return charts;
}
