/**
 * `fedleak compare`: two run folders → one side-by-side HTML page.
 *
 * Usage: await writeComparison(['runs/a', 'runs/b'], 'compare.html');
 */
import * as path from 'node:path';
import { folderAssets } from './assets';
import { renderCharts } from './chart-files';
import { renderCompareHtml, type ComparedRun } from './compare-html';
import { writeFileAtomic } from './atomic-write';
import { readRunFolder } from './run-folder';
import { deriveVerdict } from './verdict';

async function comparedRun(dir: string, label: string): Promise<ComparedRun> {
  const results = readRunFolder(dir);
  const charts = await renderCharts(path.resolve(dir), results);
  return { label, results, verdict: deriveVerdict(results), assets: folderAssets(dir, charts) };
}

/** Labels that tell the two folders apart: their names, or their paths when the names are equal. */
function labels(dirs: readonly [string, string]): [string, string] {
  const names = dirs.map((d) => path.basename(path.resolve(d)));
  return names[0] === names[1] ? [dirs[0], dirs[1]] : [names[0], names[1]];
}

export async function writeComparison(dirs: readonly [string, string], file: string): Promise<string> {
  const [la, lb] = labels(dirs);
  const runs: [ComparedRun, ComparedRun] = [await comparedRun(dirs[0], la), await comparedRun(dirs[1], lb)];
  const out = path.resolve(file);
  writeFileAtomic(out, renderCompareHtml(runs));
  return out;
}
