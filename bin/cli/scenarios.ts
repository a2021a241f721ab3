import type { Command } from 'commander';
import { listBuiltinScenarios } from '../../server/scenario/load';

export function registerScenariosCommand(program: Command): void {
  program
    .command('scenarios')
    .description('list the built-in scenarios with a one-line description each')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const list = listBuiltinScenarios();
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify(
            list.map(({ name, description }) => ({ name, description })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      const width = Math.max(...list.map((s) => s.name.length), 4);
      for (const s of list) process.stdout.write(`${s.name.padEnd(width)}  ${s.description}\n`);
    });
}
