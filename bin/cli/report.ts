import type { Command } from 'commander';
import * as path from 'node:path';
import { readRunFolder, RunFolderError } from '../../server/report/run-folder';
import { REPORT_HTML, writeReportFiles } from '../../server/report/report-writer';
import { UserError } from './errors';

/** RunFolderError → UserError: one paragraph at the terminal, no stack. */
export function readRunFolderForCli(dir: string): ReturnType<typeof readRunFolder> {
  try {
    return readRunFolder(dir);
  } catch (err) {
    if (err instanceof RunFolderError) throw new UserError(err.message);
    throw err;
  }
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      `re-render <dir>/${REPORT_HTML} (and its charts and labelled pictures) from <dir>/results.json; works on a finished run or sweep`,
    )
    .argument('<dir>', 'a run folder written by `fedleak run` (it holds results.json)')
    .action(async (dir: string) => {
      const results = readRunFolderForCli(dir);
      const report = await writeReportFiles(path.resolve(dir), results);
      process.stdout.write(`report: ${report.files[0]}\n`);
    });
}
