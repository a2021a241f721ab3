import type { Command } from 'commander';
import * as path from 'node:path';
import { loadScenario } from '../../server/scenario/load';
import { runScenario } from '../../server/run';
import { runSweep } from '../../server/run/sweep';
import { startDashboard } from '../../server/dashboard/server';
import { createRunEvents } from '../../server/report/events';
import { attackTable } from '../../server/report/summary';
import { UserError } from './errors';
import { collect, parsePort, parseSeed } from './options';


function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a scenario: server, client processes, attacks; writes <out>/results.json and images')
    .argument('<scenario>', 'a scenario file, or the name of a built-in scenario (see `fedleak scenarios`)')
    .option('-o, --out <dir>', 'output folder (default runs/<name>-<timestamp>)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <path=value>', 'override a scenario field, e.g. --set federation.rounds=3 (repeatable; value is JSON)', collect, [])
    .option('-q, --quiet', 'no progress lines')
    .option('--dashboard <port>', 'serve a live dashboard (accuracy, attack progress, reconstructions) on http://127.0.0.1:<port>/; it stays up after the run until Ctrl-C')
    .action(async (scenarioArg: string, opts: { out?: string; seed?: string; set: string[]; quiet?: boolean; dashboard?: string }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const loaded = loadScenario(scenarioArg, opts.set, seed);
      const outDir = path.resolve(opts.out ?? path.join('runs', `${loaded.scenario.name}-${timestamp()}`));
      // A scenario with `sweep` runs once per variant and writes the combined table (server/run/sweep.ts).
      const run = loaded.scenario.sweep ? runSweep : runScenario;
      const events = createRunEvents();
      const dashboardPort = opts.dashboard === undefined ? undefined : parsePort(opts.dashboard, '--dashboard');
      const dashboard =
        dashboardPort === undefined
          ? null
          : await startDashboard({ events, port: dashboardPort, title: loaded.scenario.name }).catch((err: Error) => {
              throw new UserError(err.message);
            });
      if (dashboard) process.stderr.write(`dashboard: ${dashboard.url}\n`);
      const results = await run(loaded, { outDir, progress: !opts.quiet, events }).catch(async (err: unknown) => {
        await dashboard?.close();
        throw err;
      });
      const last = results.rounds[results.rounds.length - 1];
      const what = results.sweep
        ? `sweep of ${results.sweep.length} variants`
        : `${results.rounds.length} rounds` + (last ? `, final test accuracy ${(100 * last.testAccuracy).toFixed(1)}%` : '');
      process.stdout.write(`${loaded.scenario.name}: ${what}, ${results.attacks.length} attack results\nresults: ${path.join(outDir, 'results.json')}\n`);
      if (results.attacks.length > 0 && !opts.quiet) process.stdout.write(`\n${attackTable(results.attacks)}\n`);
      if (dashboard) {
        // A class looks at the finished run too: keep serving until the person at the terminal is done.
        process.stderr.write(`dashboard: the run is over; still serving ${dashboard.url} — press Ctrl-C to exit\n`);
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        await dashboard.close();
      }
    });
}
