/**
 * Reads a run folder's pictures and charts for the HTML reports. Paths come from results.json,
 * which may have been edited by anyone: only .png and .svg files inside the folder are read, so a
 * report never inlines a file from elsewhere on the machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportAssets } from './report-html';

const TYPES: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml' };

/** The file a relative path names inside `dir`, or null when it would leave it or is not a picture. */
export function insideFolder(dir: string, rel: string): string | null {
  const root = path.resolve(dir);
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep) || !(path.extname(file).toLowerCase() in TYPES)) return null;
  return file;
}

export function fileDataUri(dir: string, rel: string): string | null {
  const file = insideFolder(dir, rel);
  if (!file || !fs.existsSync(file)) return null;
  return `data:${TYPES[path.extname(file).toLowerCase()]};base64,${fs.readFileSync(file).toString('base64')}`;
}

/** The charts already written under <dir>/curves/ (name → SVG text). */
export function chartsOnDisk(dir: string): Map<string, string> {
  const curves = path.join(dir, 'curves');
  const charts = new Map<string, string>();
  if (!fs.existsSync(curves)) return charts;
  for (const name of fs.readdirSync(curves).sort()) {
    if (name.endsWith('.svg')) charts.set(name.slice(0, -4), fs.readFileSync(path.join(curves, name), 'utf8'));
  }
  return charts;
}

export function folderAssets(dir: string, charts: ReadonlyMap<string, string>): ReportAssets {
  return { charts, image: (rel) => fileDataUri(dir, rel) };
}
