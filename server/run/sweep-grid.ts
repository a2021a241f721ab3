/**
 * The sweep's picture: one row per variant, its label on the left, then each of its attack
 * pictures (originals above reconstructions, as the observer drew them) side by side. Built from
 * the PNG files the variant runs wrote, so it shows exactly what each run reported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { drawText, GLYPH_HEIGHT, textWidth } from '../report/bitmap-font';

export interface GridRow {
  label: string;
  /** Absolute paths of the variant's attack PNGs, in order. */
  images: string[];
}

const GAP = 4;
const TEXT_SCALE = 3;
const BACKGROUND = 40;
const TEXT = 255;

function readPng(file: string): PNG | null {
  try {
    return PNG.sync.read(fs.readFileSync(file));
  } catch {
    return null; // a missing or unreadable picture leaves its slot empty; the table still has the numbers
  }
}

function blit(dst: PNG, src: PNG, x0: number, y0: number): void {
  for (let y = 0; y < src.height; y++) {
    const from = y * src.width * 4;
    src.data.copy(dst.data, ((y0 + y) * dst.width + x0) * 4, from, from + src.width * 4);
  }
}

export function sweepGridPng(rows: readonly GridRow[]): PNG {
  const loaded = rows.map((r) => ({ label: r.label, pngs: r.images.map(readPng).filter((p): p is PNG => p !== null) }));
  const labelWidth = Math.max(0, ...rows.map((r) => textWidth(r.label, TEXT_SCALE))) + 2 * GAP;
  const textHeight = GLYPH_HEIGHT * TEXT_SCALE;
  const rowWidths = loaded.map((r) => r.pngs.reduce((w, p) => w + p.width + GAP, 0));
  const rowHeights = loaded.map((r) => Math.max(textHeight, ...r.pngs.map((p) => p.height)));
  const width = labelWidth + Math.max(GAP, ...rowWidths) + GAP;
  const height = GAP + rowHeights.reduce((h, rh) => h + rh + GAP, 0);
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i += 4) {
    png.data[i] = png.data[i + 1] = png.data[i + 2] = BACKGROUND;
    png.data[i + 3] = 255;
  }
  let y = GAP;
  loaded.forEach((row, r) => {
    const plot = (px: number, py: number) => {
      const o = (py * width + px) * 4;
      png.data[o] = png.data[o + 1] = png.data[o + 2] = TEXT;
    };
    drawText(row.label, GAP, y + Math.floor((rowHeights[r] - textHeight) / 2), TEXT_SCALE, plot);
    let x = labelWidth;
    for (const p of row.pngs) {
      blit(png, p, x, y);
      x += p.width + GAP;
    }
    y += rowHeights[r] + GAP;
  });
  return png;
}

export function writeSweepGrid(file: string, rows: readonly GridRow[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, PNG.sync.write(sweepGridPng(rows)));
}
