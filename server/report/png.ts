/**
 * Reconstruction pictures: originals above reconstructions, and grids for sweep tables. Each image
 * is upscaled ×4 nearest-neighbour (a 28-px digit becomes 112 px), drawn grey for one channel and
 * RGB for three, with 2-px mid-grey separators so that black digit backgrounds stay distinct.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { ImageShape } from '../../shared/models/types';

export const PNG_SCALE = 4;
export const PNG_GAP = 2;
const SEPARATOR = 128;

export interface ImageRow {
  /** NHWC flat, [count, h, w, c], values in [0, 1] (clipped when drawn; NaN draws black). */
  images: Float32Array;
  count: number;
}

function checkShape(shape: ImageShape): void {
  const [h, w, c] = shape;
  if (![h, w].every((v) => Number.isInteger(v) && v > 0) || (c !== 1 && c !== 3)) {
    throw new Error(`png: image shape must be [h, w, 1] or [h, w, 3], got [${shape.join(', ')}]`);
  }
}

function checkRow(what: string, row: ImageRow, shape: ImageShape): void {
  const size = shape[0] * shape[1] * shape[2];
  if (!Number.isInteger(row.count) || row.count < 0 || row.images.length < row.count * size) {
    throw new Error(`png: ${what} holds ${row.images.length} values, too few for ${row.count} images of [${shape.join(', ')}]`);
  }
}

/**
 * Lays out cells: cells[r][k] is the image index drawn in row r, column k, or −1 for an empty
 * cell. Returns the PNG.
 */
function drawGrid(rows: readonly ImageRow[], cells: readonly (readonly number[])[], shape: ImageShape): PNG {
  const [h, w, c] = shape;
  const columns = Math.max(1, ...cells.map((r) => r.length));
  const cellW = w * PNG_SCALE;
  const cellH = h * PNG_SCALE;
  const width = PNG_GAP + columns * (cellW + PNG_GAP);
  const height = PNG_GAP + Math.max(1, rows.length) * (cellH + PNG_GAP);
  const png = new PNG({ width, height });
  png.data.fill(SEPARATOR);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  const size = h * w * c;
  cells.forEach((rowCells, r) => {
    rowCells.forEach((index, k) => {
      if (index < 0) return;
      const image = rows[r].images.subarray(index * size, (index + 1) * size);
      const x0 = PNG_GAP + k * (cellW + PNG_GAP);
      const y0 = PNG_GAP + r * (cellH + PNG_GAP);
      for (let py = 0; py < cellH; py++) {
        const sy = Math.floor(py / PNG_SCALE);
        for (let px = 0; px < cellW; px++) {
          const sx = Math.floor(px / PNG_SCALE);
          const o = ((y0 + py) * width + x0 + px) * 4;
          for (let ch = 0; ch < 3; ch++) {
            const v = image[(sy * w + sx) * c + (c === 1 ? 0 : ch)];
            png.data[o + ch] = Number.isNaN(v) ? 0 : Math.round(255 * Math.min(1, Math.max(0, v)));
          }
        }
      }
    });
  });
  return png;
}

function save(file: string, png: PNG): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, PNG.sync.write(png));
}

/**
 * PNG of originals (top row, in order) above reconstructions (bottom row). With `assignment`
 * (reconstruction i ↦ original assignment[i], as scoreReconstruction returns it) each
 * reconstruction sits under its original; unmatched ones follow to the right.
 */
export function comparisonPng(
  originals: Float32Array,
  originalCount: number,
  reconstructions: Float32Array,
  reconstructionCount: number,
  shape: ImageShape,
  assignment?: readonly number[],
): PNG {
  checkShape(shape);
  const top: ImageRow = { images: originals, count: originalCount };
  const bottom: ImageRow = { images: reconstructions, count: reconstructionCount };
  checkRow('originals', top, shape);
  checkRow('reconstructions', bottom, shape);
  const topCells = Array.from({ length: originalCount }, (_, j) => j);
  return drawGrid([top, bottom], [topCells, comparisonBottomRow(originalCount, reconstructionCount, assignment)], shape);
}

/**
 * Which reconstruction each bottom-row column of a comparison PNG holds (−1: none): column j < originalCount
 * holds the reconstruction matched to original j, unmatched ones follow to the right. The labelled grid
 * (labelled-grid.ts) reads cells back with the same layout.
 */
export function comparisonBottomRow(originalCount: number, reconstructionCount: number, assignment?: readonly number[]): number[] {
  const bottomCells: number[] = new Array<number>(originalCount).fill(-1);
  for (let i = 0; i < reconstructionCount; i++) {
    const j = assignment ? assignment[i] : i;
    if (j !== undefined && j >= 0 && j < originalCount && bottomCells[j] === -1) bottomCells[j] = i;
    else bottomCells.push(i);
  }
  return bottomCells;
}

export function writeComparisonPng(
  file: string,
  originals: Float32Array,
  originalCount: number,
  reconstructions: Float32Array,
  reconstructionCount: number,
  shape: ImageShape,
  assignment?: readonly number[],
): void {
  save(file, comparisonPng(originals, originalCount, reconstructions, reconstructionCount, shape, assignment));
}

/** One row of images per entry (e.g. one per sweep variant), left-aligned. */
export function imageGridPng(rows: readonly ImageRow[], shape: ImageShape): PNG {
  checkShape(shape);
  rows.forEach((row, r) => checkRow(`row ${r}`, row, shape));
  return drawGrid(
    rows,
    rows.map((row) => Array.from({ length: row.count }, (_, i) => i)),
    shape,
  );
}

export function writeImageGrid(file: string, rows: readonly ImageRow[], shape: ImageShape): void {
  save(file, imageGridPng(rows, shape));
}
