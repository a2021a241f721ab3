/**
 * Crops real original/reconstruction pairs out of runs' comparison PNGs for docs/verdict-examples/:
 * for each target SSIM, the scored pair closest to it, as a small two-cell PNG (original above).
 *
 * Usage: node dist/tools/verdict-examples.js OUT_DIR RUN_DIR... (targets 0.4, 0.6, 0.8)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { PNG_GAP, PNG_SCALE } from '../server/report/png';
import type { RunResults } from '../server/report/results';

interface Pair {
  run: string;
  image: string;
  column: number;
  ssim: number;
  psnr: number;
  shape: number[];
}

function pairsOf(runDir: string): Pair[] {
  const results = JSON.parse(fs.readFileSync(path.join(runDir, 'results.json'), 'utf8')) as RunResults;
  const shape = results.effective?.data.shape ?? [28, 28, 1];
  return results.attacks.flatMap((a) =>
    a.image && a.perImage
      ? a.perImage
          .filter((p) => p.original >= 0 && typeof p.ssim === 'number')
          .map((p) => ({ run: runDir, image: path.join(runDir, a.image as string), column: p.original, ssim: p.ssim, psnr: p.psnr, shape }))
      : [],
  );
}

function crop(pair: Pair): PNG {
  const src = PNG.sync.read(fs.readFileSync(pair.image));
  const cellW = pair.shape[1] * PNG_SCALE;
  const cellH = pair.shape[0] * PNG_SCALE;
  const x0 = PNG_GAP + pair.column * (cellW + PNG_GAP);
  const out = new PNG({ width: cellW + 2 * PNG_GAP, height: 2 * cellH + 3 * PNG_GAP });
  PNG.bitblt(src, out, x0 - PNG_GAP, 0, cellW + 2 * PNG_GAP, 2 * cellH + 3 * PNG_GAP, 0, 0);
  return out;
}

function main(argv: string[]): void {
  const [outDir, ...runs] = argv;
  if (!outDir || runs.length === 0) throw new Error('usage: verdict-examples OUT_DIR RUN_DIR...');
  const pairs = runs.flatMap(pairsOf);
  fs.mkdirSync(outDir, { recursive: true });
  for (const target of [0.4, 0.6, 0.8]) {
    const best = pairs.reduce((a, b) => (Math.abs(b.ssim - target) < Math.abs(a.ssim - target) ? b : a));
    const file = path.join(outDir, `ssim-${target.toFixed(1)}.png`);
    fs.writeFileSync(file, PNG.sync.write(crop(best)));
    process.stdout.write(
      `${file}: SSIM ${best.ssim.toFixed(3)}, PSNR ${best.psnr.toFixed(1)} dB, from ${best.image} column ${best.column}\n`,
    );
  }
}

main(process.argv.slice(2));
