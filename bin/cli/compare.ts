import type { Command } from 'commander';
import { writeComparison } from '../../server/report/compare-writer';
import { RunFolderError } from '../../server/report/run-folder';
import { UserError } from './errors';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'put two runs side by side in one self-contained HTML page: scenario differences, key figures, verdicts, charts, reconstructions',
    )
    .argument('<dir1>', 'a run folder written by `fedleak run`')
    .argument('<dir2>', 'another run folder')
    .option('-o, --out <file>', 'where to write the page', 'compare.html')
    .action(async (dir1: string, dir2: string, opts: { out: string }) => {
      const file = await writeComparison([dir1, dir2], opts.out).catch((err: unknown) => {
        throw err instanceof RunFolderError ? new UserError(err.message) : err;
      });
      process.stdout.write(`comparison: ${file}\n`);
    });
}
