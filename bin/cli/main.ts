/** The `fedleak` command line. Each command lives in its own module. */
import { Command, CommanderError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserFacing } from './errors';
import { registerScenariosCommand } from './scenarios';
import { registerRunCommand } from './run';
import { registerServerCommand } from './server';
import { registerClientCommand } from './client';
import { registerAttackCommand } from './attack';
import { registerPrivacyCommand } from './privacy';
import { registerBenchCommand } from './bench';
import { registerReportCommand } from './report';
import { registerCompareCommand } from './compare';
import { registerServeModelCommand } from './serve-model';
import { registerInvertCommand } from './invert';
import { registerInspectModelCommand } from './inspect-model';
import { registerExportModelCommand } from './export-model';

export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fedleak')
    .description(
      'Federated-learning gradient-leakage simulator: real clients over websockets, secure aggregation, DP, and the attacks that reconstruct private data from updates.',
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run `fedleak --help` for usage)');
  registerScenariosCommand(program);
  registerRunCommand(program);
  registerServerCommand(program);
  registerClientCommand(program);
  registerAttackCommand(program);
  registerPrivacyCommand(program);
  registerBenchCommand(program);
  registerReportCommand(program);
  registerCompareCommand(program);
  registerServeModelCommand(program);
  registerInvertCommand(program);
  registerInspectModelCommand(program);
  registerExportModelCommand(program);
  return program;
}

function reportAndExit(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode); // 0 after --help and --version
  if (isUserFacing(err)) {
    process.stderr.write(`fedleak: ${err.message}\n`);
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`fedleak: internal error: ${e.message}\n`);
    if (process.env.FEDLEAK_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    else process.stderr.write('(set FEDLEAK_DEBUG=1 for the stack trace)\n');
  }
  process.exit(1);
}

/** `fedleak scenarios | head -1`: the reader left, which is not an error worth a stack trace. */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export function main(argv: string[]): void {
  exitQuietlyOnClosedPipe(process.stdout);
  const program = buildProgram();
  program.exitOverride();
  program.parseAsync(argv).catch(reportAndExit);
}
