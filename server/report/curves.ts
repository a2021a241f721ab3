/**
 * PNG line charts of a run, drawn pixel by pixel with pngjs: test accuracy per round, and the
 * attacks' objective per iteration (log scale) when traces were recorded.
 *
 * Usage:
 *   writeCurves(outDir, results, observer.traces());   // <outDir>/curves/*.png, returns the paths
 *   const png = lineChartPng({ title, xLabel, yLabel, series: [{ name, points }] });  // a Buffer
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { RunResults } from './results';
import { drawText, GLYPH_HEIGHT, textWidth } from './bitmap-font';

export type Rgb = readonly [number, number, number];

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: Rgb;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** Logarithmic y axis (non-positive values are left out). */
  logY?: boolean;
  /** Fixed y range; default the data's range. */
  yRange?: readonly [number, number];
}

const PALETTE: Rgb[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [23, 190, 207],
];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const TEXT_SCALE = 2;

class Canvas {
  readonly png: PNG;
  constructor(readonly width: number, readonly height: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.png.data[i] = c[0];
    this.png.data[i + 1] = c[1];
    this.png.data[i + 2] = c[2];
    this.png.data[i + 3] = 255;
  }
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let t = 0; t < thick; t++) this.set(x, y + t, c);
    }
  }
  text(text: string, x: number, y: number, c: Rgb = BLACK): void {
    drawText(text, Math.round(x), Math.round(y), TEXT_SCALE, (px, py) => this.set(px, py, c));
  }
}

/** About five round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= target + 1) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** Draws a line chart and returns the PNG file bytes. */
export function lineChartPng(spec: ChartSpec): Buffer {
  const width = spec.width ?? 640;
  const height = spec.height ?? 360;
  const canvas = new Canvas(width, height);
  const lineH = GLYPH_HEIGHT * TEXT_SCALE;
  const left = 70;
  const right = 20;
  const top = 20 + 2 * lineH;
  const bottom = 24 + 2 * lineH;
  const plotW = width - left - right;
  const plotH = height - top - bottom;

  const toY = (v: number) => (spec.logY ? Math.log10(v) : v);
  const pts = spec.series.map((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.logY || y > 0)));
  const all = pts.flat();
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = spec.yRange ? spec.yRange.map(toY) : all.length ? [Math.min(...all.map((p) => toY(p[1]))), Math.max(...all.map((p) => toY(p[1])))] : [0, 1];
  if (x1 - x0 === 0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 === 0) [y0, y1] = [y0 - 1, y1 + 1];
  if (spec.logY) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => top + plotH - ((y - y0) / (y1 - y0)) * plotH;

  // Grid and tick labels.
  const yTicks = spec.logY ? niceTicks(y0, y1, 6).filter(Number.isInteger) : niceTicks(y0, y1);
  for (const t of yTicks) {
    canvas.line(left, py(t), left + plotW, py(t), GRID);
    const label = spec.logY ? `1e${t}` : formatTick(t);
    canvas.text(label, left - 6 - textWidth(label, TEXT_SCALE), py(t) - lineH / 2);
  }
  for (const t of niceTicks(x0, x1)) {
    canvas.line(px(t), top, px(t), top + plotH, GRID);
    canvas.line(px(t), top + plotH, px(t), top + plotH + 4, BLACK);
    const label = formatTick(t);
    canvas.text(label, px(t) - textWidth(label, TEXT_SCALE) / 2, top + plotH + 8);
  }
  // Axes, title, axis labels.
  canvas.line(left, top, left, top + plotH, BLACK);
  canvas.line(left, top + plotH, left + plotW, top + plotH, BLACK);
  canvas.text(spec.title, (width - textWidth(spec.title, TEXT_SCALE)) / 2, 8);
  canvas.text(spec.yLabel, 8, 12 + lineH);
  canvas.text(spec.xLabel, left + (plotW - textWidth(spec.xLabel, TEXT_SCALE)) / 2, height - lineH - 6);

  // Series, and a legend when there is more than one.
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const p = pts[i].map(([x, y]) => [px(x), py(toY(y))] as const);
    for (let k = 1; k < p.length; k++) canvas.line(p[k - 1][0], p[k - 1][1], p[k][0], p[k][1], color, 2);
    if (p.length <= 40) for (const [x, y] of p) for (let d = -2; d <= 2; d++) canvas.line(x - 2, y + d, x + 2, y + d, color);
    if (spec.series.length > 1) {
      const ly = top + 6 + i * (lineH + 4);
      const lx = left + plotW - 10 - textWidth(s.name, TEXT_SCALE) - 16;
      for (let d = 0; d < lineH; d++) canvas.line(lx, ly + d, lx + 10, ly + d, color);
      canvas.text(s.name, lx + 16, ly);
    }
  });
  return PNG.sync.write(canvas.png);
}

/** Writes curves/accuracy.png and, with traces, curves/attack-objective.png; returns their paths. */
export function writeCurves(
  outDir: string,
  results: RunResults,
  traces: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>> = new Map(),
): string[] {
  const dir = path.join(outDir, 'curves');
  const written: string[] = [];
  const save = (name: string, png: Buffer) => {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    fs.writeFileSync(file, png);
    written.push(file);
  };
  if (results.rounds.length > 0) {
    save(
      'accuracy.png',
      lineChartPng({
        title: `${results.scenario.name}: test accuracy`,
        xLabel: 'round',
        yLabel: 'test accuracy %',
        yRange: [0, 100],
        series: [{ name: 'test accuracy', points: results.rounds.map((r) => [r.round, 100 * r.testAccuracy] as const) }],
      }),
    );
  }
  const withPoints = [...traces].filter(([, t]) => t.length > 0);
  if (withPoints.length > 0) {
    save(
      'attack-objective.png',
      lineChartPng({
        title: `${results.scenario.name}: attack objective`,
        xLabel: 'iteration',
        yLabel: 'objective (log)',
        logY: true,
        series: withPoints.slice(0, PALETTE.length).map(([name, points]) => ({ name, points })),
      }),
    );
  }
  return written;
}
