/**
 * The sweep's picture: one row per variant, its label on the left, then each of its attack
 * pictures (originals above reconstructions, as the observer drew them) side by side. Built from
 * the PNG files the variant runs wrote, so it shows exactly what each run reported. Drawn as an
 * SVG with real text and rasterised by sharp (librsvg).
 *
 * Usage: await writeSweepGrid(path.join(outDir, 'reconstructions.png'), rows);
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { escapeXml } from './escape';

export interface GridRow {
  label: string;
  /** Absolute paths of the variant's attack PNGs, in order. */
  images: string[];
}

const GAP = 4;
const FONT_SIZE = 20;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

interface Picture {
  bytes: Buffer;
  width: number;
  height: number;
}

function readPicture(file: string): Picture | null {
  try {
    const bytes = fs.readFileSync(file);
    const png = PNG.sync.read(bytes);
    return { bytes, width: png.width, height: png.height };
  } catch {
    return null; // a missing or unreadable picture leaves its slot empty; the table still has the numbers
  }
}

/** The grid as an SVG document (dark background, white labels). */
export function sweepGridSvg(rows: readonly GridRow[]): string {
  const loaded = rows.map((r) => ({ label: r.label, pictures: r.images.map(readPicture).filter((p): p is Picture => p !== null) }));
  // Label column: a generous estimate of the text width (≈0.65 em per character in DejaVu Sans).
  const labelWidth = Math.ceil(Math.max(0, ...rows.map((r) => r.label.length)) * FONT_SIZE * 0.65) + 2 * GAP;
  const rowHeights = loaded.map((r) => Math.max(FONT_SIZE + 2 * GAP, ...r.pictures.map((p) => p.height)));
  const rowWidths = loaded.map((r) => r.pictures.reduce((w, p) => w + p.width + GAP, 0));
  const width = labelWidth + Math.max(GAP, ...rowWidths) + GAP;
  const height = GAP + rowHeights.reduce((h, rh) => h + rh + GAP, 0);
  const parts = [`<rect width="${width}" height="${height}" fill="rgb(40,40,40)"/>`];
  let y = GAP;
  loaded.forEach((row, r) => {
    parts.push(
      `<text x="${GAP}" y="${y + rowHeights[r] / 2}" dominant-baseline="middle" font-size="${FONT_SIZE}" fill="white">${escapeXml(row.label)}</text>`,
    );
    let x = labelWidth;
    for (const p of row.pictures) {
      parts.push(
        `<image x="${x}" y="${y}" width="${p.width}" height="${p.height}" href="data:image/png;base64,${p.bytes.toString('base64')}"/>`,
      );
      x += p.width + GAP;
    }
    y += rowHeights[r] + GAP;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">${parts.join('')}</svg>`;
}

export async function writeSweepGrid(file: string, rows: readonly GridRow[]): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    await sharp(Buffer.from(sweepGridSvg(rows)))
      .png()
      .toBuffer(),
  );
}
