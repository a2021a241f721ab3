/**
 * The run's charts as Vega-Lite specifications: pure data → spec functions, no drawing here
 * (server/report/chart-render.ts compiles a spec to SVG and PNG with vega and sharp).
 *
 * Usage: const svg = await chartSvg(accuracySpec(results.rounds, 'quickstart'));
 */
import type { TopLevelSpec } from 'vega-lite/build/index';
import type { RoundRecord, SweepRow } from './results';

/** One attack's objective per iteration; restartStarts are the iterations where restarts 2, 3, … began. */
export interface ObjectiveTrace {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  restartStarts?: readonly number[];
}

/** Test accuracy per round of one run, or of several (one line per series, e.g. sweep variants). */
export interface RoundSeries {
  name: string;
  rounds: readonly RoundRecord[];
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const WIDTH = 520;
const HEIGHT = 260;

/** Shared look: white background (PNG exports), one font, no outer border. */
interface BaseSpec {
  $schema: string;
  title: string;
  width: number;
  height: number;
  background: string;
  padding: number;
  config: TopLevelSpec['config'];
}

function base(title: string): BaseSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    padding: 8,
    config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14 } },
  };
}

function finite(...values: number[]): boolean {
  return values.every((v) => typeof v === 'number' && Number.isFinite(v));
}

function roundRows(series: readonly RoundSeries[], value: (r: RoundRecord) => number): Array<Record<string, string | number>> {
  return series.flatMap((s) =>
    s.rounds.filter((r) => finite(r.round, value(r))).map((r) => ({ series: s.name, round: r.round, value: value(r) })),
  );
}

/** Several series: coloured and listed in their given order (a sweep's variant order), not alphabetically. */
function roundChart(
  title: string,
  yTitle: string,
  rows: Array<Record<string, string | number>>,
  names: readonly string[],
  yDomain?: [number, number],
): TopLevelSpec {
  return {
    ...base(title),
    data: { values: rows },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: yTitle, ...(yDomain ? { scale: { domain: yDomain } } : {}) },
      ...(names.length > 1 ? { color: { field: 'series', type: 'nominal', title: null, sort: [...names] } } : {}),
    },
  };
}

/** Test accuracy (%) per round. */
export function accuracySpec(series: readonly RoundSeries[], name: string): TopLevelSpec {
  return roundChart(
    `${name}: test accuracy`,
    'test accuracy (%)',
    roundRows(series, (r) => 100 * r.testAccuracy),
    series.map((s) => s.name),
    [0, 100],
  );
}

/** Test loss (cross-entropy, nats) per round. */
export function lossSpec(series: readonly RoundSeries[], name: string): TopLevelSpec {
  return roundChart(
    `${name}: test loss`,
    'test loss (nats)',
    roundRows(series, (r) => r.testLoss),
    series.map((s) => s.name),
  );
}

/** ε of the (ε, δ)-DP guarantee accumulated up to each round. */
export function privacySpec(series: readonly RoundSeries[], name: string): TopLevelSpec {
  const rows = roundRows(series, (r) => r.privacy?.epsilon ?? NaN);
  const deltas = [...new Set(series.flatMap((s) => s.rounds.map((r) => r.privacy?.delta)).filter((d) => d !== undefined))];
  const delta = deltas.length === 1 ? `, δ = ${deltas[0]}` : '';
  const names = series.filter((s) => s.rounds.some((r) => r.privacy)).map((s) => s.name);
  return roundChart(`${name}: privacy spent (ε${delta})`, 'ε', rows, names);
}

/**
 * Attack objective per iteration on a log scale; a dashed vertical rule marks where each restart
 * began, in the colour of its attack. Non-positive or non-finite values cannot be drawn on a log
 * axis and are left out.
 */
export function objectiveSpec(traces: readonly ObjectiveTrace[], name: string): TopLevelSpec {
  const points = traces.flatMap((t) =>
    t.points.filter(([x, y]) => finite(x, y) && y > 0).map(([iteration, objective]) => ({ attack: t.name, iteration, objective })),
  );
  const restarts = traces.flatMap((t) => (t.restartStarts ?? []).map((iteration) => ({ attack: t.name, iteration })));
  const color = { field: 'attack', type: 'nominal' as const, title: null, legend: traces.length > 1 ? {} : null };
  const lines = {
    data: { values: points },
    mark: { type: 'line' as const, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative' as const, title: 'iteration' },
      y: {
        field: 'objective',
        type: 'quantitative' as const,
        title: 'objective (log scale)',
        scale: { type: 'log' as const },
        axis: { format: '~g' },
      },
      color,
    },
  };
  const rules = {
    data: { values: restarts },
    mark: { type: 'rule' as const, strokeDash: [4, 3], opacity: 0.7 },
    encoding: { x: { field: 'iteration', type: 'quantitative' as const }, color },
  };
  const title = restarts.length > 0 ? `${name}: attack objective (dashed: restart boundaries)` : `${name}: attack objective`;
  return { ...base(title), layer: restarts.length > 0 ? [lines, rules] : [lines] };
}

/**
 * The privacy–utility frontier of a sweep: one point per variant, final test accuracy against the
 * leakage its attacks reached (mean matched SSIM; higher leaks more), labelled with the variant.
 */
export function frontierSpec(rows: readonly SweepRow[], name: string): TopLevelSpec {
  const values = rows
    .filter((r) => r.attack !== null && finite(r.finalTestAccuracy, r.attack.ssim))
    .map((r) => ({ variant: r.variant, accuracy: 100 * r.finalTestAccuracy, ssim: r.attack?.ssim ?? NaN, psnr: r.attack?.psnr ?? NaN }));
  const encoding = {
    x: { field: 'accuracy', type: 'quantitative' as const, title: 'final test accuracy (%)', scale: { zero: false, padding: 20 } },
    // SSIM can dip just below 0 for noise; keep such points on the chart.
    y: {
      field: 'ssim',
      type: 'quantitative' as const,
      title: 'leakage: mean SSIM of reconstructions',
      scale: { domain: [Math.min(0, ...values.map((v) => v.ssim)), 1] },
    },
  };
  return {
    ...base(`${name}: privacy–utility frontier`),
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 80 },
        encoding: { ...encoding, color: { field: 'variant', type: 'nominal', legend: null } },
      },
      {
        mark: { type: 'text', dx: 8, align: 'left', baseline: 'middle', fontSize: 11 },
        encoding: { ...encoding, text: { field: 'variant', type: 'nominal' } },
      },
    ],
  };
}
