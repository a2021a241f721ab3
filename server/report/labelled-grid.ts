/**
 * Labelled comparison grids: each reconstruction beside its original with its figures written
 * under it (PSNR, SSIM, true → recovered label), pairs sorted worst to best. Built from the
 * observer's comparison PNG (cells read back with png.ts's layout) and the record's per-image
 * scores; drawn as an SVG with real text and rasterised by sharp (librsvg), no font of our own.
 *
 * Usage: const rel = await writeLabelledGrid(outDir, record);   // "images/<name>-labelled.png"
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { comparisonBottomRow, PNG_GAP } from './png';
import type { AttackRecord } from './results';
import { escapeXml } from './escape';

export interface GridPair {
  original: PNG | null;
  reconstruction: PNG | null;
  psnr: number;
  ssim: number;
  trueLabel?: number;
  recoveredLabel?: number;
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const MIN_CELL = 96;
const COLUMNS = 8;
const SIDE = 112;
const CAPTION = 52;
const PAD = 8;

/** A sub-rectangle of `png`, enlarged by an integer factor (nearest neighbour) to at least MIN_CELL wide. */
function crop(png: PNG, x0: number, y0: number, w: number, h: number): PNG {
  const k = Math.max(1, Math.ceil(MIN_CELL / w));
  const out = new PNG({ width: w * k, height: h * k });
  for (let y = 0; y < h * k; y++) {
    for (let x = 0; x < w * k; x++) {
      const from = ((y0 + Math.floor(y / k)) * png.width + x0 + Math.floor(x / k)) * 4;
      png.data.copy(out.data, (y * out.width + x) * 4, from, from + 4);
    }
  }
  return out;
}

/**
 * The pairs of a record's comparison PNG. Throws when the picture does not have the layout the
 * record implies (then the report shows the unlabelled picture).
 */
export function comparisonPairs(record: AttackRecord, png: PNG): GridPair[] {
  const originals = record.trueLabels?.length ?? record.batchSize;
  const scores = record.perImage ?? [];
  const reconstructions = scores.length || record.recoveredLabels?.length || originals;
  const assignment = scores.length ? scores.map((s) => s.original) : undefined;
  const bottom = comparisonBottomRow(originals, reconstructions, assignment);
  const cellW = (png.width - PNG_GAP) / bottom.length - PNG_GAP;
  const cellH = (png.height - PNG_GAP) / 2 - PNG_GAP;
  if (!Number.isInteger(cellW) || !Number.isInteger(cellH) || cellW <= 0 || cellH <= 0) {
    throw new Error(
      `${record.image}: ${png.width}×${png.height} px is not a comparison of ${originals} originals and ${reconstructions} reconstructions`,
    );
  }
  const cell = (row: number, column: number) =>
    crop(png, PNG_GAP + column * (cellW + PNG_GAP), PNG_GAP + row * (cellH + PNG_GAP), cellW, cellH);
  const pairs: GridPair[] = bottom.map((i, column) => {
    const j = column < originals ? column : -1;
    const score = i >= 0 ? scores[i] : undefined;
    return {
      original: j >= 0 ? cell(0, column) : null,
      reconstruction: i >= 0 ? cell(1, column) : null,
      psnr: score?.psnr ?? (i >= 0 && !scores.length ? record.psnr : NaN),
      ssim: score?.ssim ?? (i >= 0 && !scores.length ? record.ssim : NaN),
      trueLabel: j >= 0 ? record.trueLabels?.[j] : undefined,
      recoveredLabel: i >= 0 ? record.recoveredLabels?.[i] : undefined,
    };
  });
  return sortWorstFirst(pairs);
}

/** Worst first: by SSIM, then PSNR; a pair with no score (unmatched, missing) counts as worst. */
export function sortWorstFirst(pairs: GridPair[]): GridPair[] {
  const key = (v: number) => (Number.isFinite(v) ? v : -Infinity);
  return [...pairs].sort((a, b) => key(a.ssim) - key(b.ssim) || key(a.psnr) - key(b.psnr));
}

function dataUri(png: PNG): string {
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/** Class names (image-folder data) when given, shortened to fit a column; else the class index. */
function label(v: number | undefined, classNames?: readonly string[]): string {
  if (v === undefined) return '?';
  const name = classNames?.[v];
  return name === undefined ? String(v) : name.length > 12 ? `${name.slice(0, 11)}…` : name;
}

function captionLines(p: GridPair, classNames?: readonly string[]): Array<{ text: string; color: string }> {
  if (!p.reconstruction) return [{ text: 'not reconstructed', color: '#b00020' }];
  const psnr = Number.isFinite(p.psnr) ? `PSNR ${p.psnr >= 100 ? '≥100' : p.psnr.toFixed(1)} dB` : 'PSNR –';
  const ssim = Number.isFinite(p.ssim) ? `SSIM ${p.ssim.toFixed(3)}` : 'SSIM – (unmatched)';
  const same = p.trueLabel !== undefined && p.trueLabel === p.recoveredLabel;
  return [
    { text: psnr, color: '#222' },
    { text: ssim, color: '#222' },
    { text: `label ${label(p.trueLabel, classNames)} → ${label(p.recoveredLabel, classNames)}`, color: same ? '#1b7a2e' : '#b00020' },
  ];
}

/** The grid as an SVG document: a title, row names on the left, columns of original / reconstruction / caption. */
export function labelledGridSvg(pairs: readonly GridPair[], title: string, classNames?: readonly string[]): string {
  const side = Math.max(SIDE, ...pairs.flatMap((p) => [p.original?.width ?? 0, p.reconstruction?.width ?? 0]));
  const colW = side + PAD;
  const left = 120;
  const blockH = 2 * (side + PAD) + CAPTION;
  const columns = Math.min(COLUMNS, Math.max(1, pairs.length));
  const blocks = Math.max(1, Math.ceil(pairs.length / COLUMNS));
  // The title is one line of 14-px bold text (≈9 px a character): the picture is at least that wide.
  const width = Math.max(left + columns * colW + PAD, Math.ceil(title.length * 9) + 2 * PAD);
  const height = 32 + blocks * (blockH + PAD);
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="white"/>`];
  parts.push(`<text x="${PAD}" y="20" font-size="14" font-weight="bold" fill="#111">${escapeXml(title)}</text>`);
  for (let b = 0; b < blocks; b++) {
    const y0 = 32 + b * (blockH + PAD);
    parts.push(`<text x="${PAD}" y="${y0 + side / 2}" font-size="13" fill="#444">original</text>`);
    parts.push(`<text x="${PAD}" y="${y0 + side + PAD + side / 2}" font-size="13" fill="#444">reconstruction</text>`);
    pairs.slice(b * COLUMNS, (b + 1) * COLUMNS).forEach((p, k) => {
      const x = left + k * colW;
      const image = (png: PNG | null, y: number) =>
        png
          ? `<image x="${x}" y="${y}" width="${png.width}" height="${png.height}" href="${dataUri(png)}"/>`
          : `<rect x="${x}" y="${y}" width="${side}" height="${side}" fill="#eee" stroke="#ccc"/>`;
      parts.push(image(p.original, y0), image(p.reconstruction, y0 + side + PAD));
      captionLines(p, classNames).forEach((line, n) => {
        parts.push(
          `<text x="${x}" y="${y0 + 2 * (side + PAD) + 12 + 15 * n}" font-size="12" fill="${line.color}">${escapeXml(line.text)}</text>`,
        );
      });
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">${parts.join('')}</svg>`;
}

/** "images/x.png" → "images/x-labelled.png". */
export function labelledPath(image: string): string {
  return image.replace(/\.png$/, '') + '-labelled.png';
}

export function gridTitle(record: AttackRecord): string {
  const view = record.view === 'plain' ? '' : ` (${record.view})`;
  const variant = record.variant ? ` [${record.variant}]` : '';
  return `round ${record.round} · ${record.target}${view} · ${record.attack}${variant} — worst to best`;
}

/**
 * Writes the labelled grid of a record beside its comparison PNG; returns its path relative to
 * `outDir`, or null when the record has no picture.
 */
export async function writeLabelledGrid(
  outDir: string,
  record: AttackRecord,
  write: (file: string, data: Buffer) => void,
  classNames?: readonly string[],
): Promise<string | null> {
  if (!record.image) return null;
  const source = PNG.sync.read(fs.readFileSync(path.join(outDir, record.image)));
  const svg = labelledGridSvg(comparisonPairs(record, source), gridTitle(record), classNames);
  const rel = labelledPath(record.image);
  write(path.join(outDir, rel), await sharp(Buffer.from(svg)).png().toBuffer());
  return rel;
}
