/**
 * Reading a finished (or running) run folder back: its results.json, checked, with a clear error
 * naming the folder and what is wrong. Used by `fedleak report` and `fedleak compare`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResults } from './results';
import { checkResults } from './results-writer';

export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

export function readRunFolder(dir: string): RunResults {
  const folder = path.resolve(dir);
  if (!fs.existsSync(folder)) throw new RunFolderError(`${dir}: no such folder; give a run folder written by \`fedleak run\``);
  if (!fs.statSync(folder).isDirectory())
    throw new RunFolderError(`${dir}: not a folder; give a run folder written by \`fedleak run\` (the folder holding results.json)`);
  const file = path.join(folder, 'results.json');
  if (!fs.existsSync(file))
    throw new RunFolderError(
      `${dir}: no results.json in this folder; is it a run folder written by \`fedleak run\`, and has the run finished?`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunFolderError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new RunFolderError(`${file}: expected a JSON object (fedleak-results/1)`);
  const problem = checkResults(parsed as RunResults);
  if (problem) throw new RunFolderError(`${file}: ${problem}`);
  return withNaN(parsed as RunResults);
}

/** JSON spells NaN as null; in memory the metric fields are numbers again (NaN), as the types say. */
function withNaN(results: RunResults): RunResults {
  const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  return {
    ...results,
    attacks: results.attacks.map((a) => ({
      ...a,
      mse: num(a.mse),
      psnr: num(a.psnr),
      ssim: num(a.ssim),
      labelAccuracy: num(a.labelAccuracy),
      finalObjective: num(a.finalObjective),
    })),
  };
}
