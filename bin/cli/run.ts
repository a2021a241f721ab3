import type { Command } from 'commander';
import * as path from 'node:path';
import { loadScenario, validateScenario, type LoadedScenario } from '../../server/scenario/load';
import { runScenario } from '../../server/run';
import { readCheckpoint, type Checkpoint } from '../../server/run/durable';
import { runSweep } from '../../server/run/sweep';
import { prepareOutDir, safeFolderName } from '../../server/run/out-dir';
import { startDashboard, type Dashboard } from '../../server/dashboard/server';
import { createRunEvents, type RunEvents } from '../../server/report/events';
import { attachProgressPrinter } from '../../server/report/progress';
import { REPORT_HTML } from '../../server/report/report-writer';
import type { RunResults } from '../../server/report/results';
import { attackTable } from '../../server/report/summary';
import { initBackend } from '../../shared/tensor/backend';
import { UserError } from './errors';
import { collect, parsePort, parseSeed } from './options';

/** The dashboard's listen address; anything but loopback gets a warning. */
function dashboardHost(host: string | undefined): string {
  const h = host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(h)) {
    process.stderr.write(
      `fedleak run: warning: --dashboard-host ${h}: the dashboard shows reconstructions of clients' private data and is now reachable from the network; ` +
        `share its URL (it holds the access token) only with people who may see them.\n`,
    );
  }
  return h;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

/** The privacy a DP run spent, one line per run (per variant for a sweep); empty without DP. */
function privacyLines(results: RunResults): string {
  const line = (who: string, p: NonNullable<RunResults['privacy']>) =>
    `${who}(ε = ${p.epsilon.toFixed(3)}, δ = ${p.delta})-DP after ${p.steps} rounds (noise multiplier ${p.noiseMultiplier}, sample rate ${p.sampleRate})\n`;
  if (results.privacy) return line('privacy: ', results.privacy);
  return (results.sweep ?? []).map((r) => (r.privacy ? line(`privacy of ${r.variant}: `, r.privacy) : '')).join('');
}

/** `--resume DIR`: the killed run's scenario (as it ran, seed and overrides applied) and checkpoint. */
function resumeFrom(dir: string): { loaded: LoadedScenario; checkpoint: Checkpoint; outDir: string } {
  const outDir = path.resolve(dir);
  let checkpoint: Checkpoint;
  try {
    checkpoint = readCheckpoint(outDir);
  } catch (err) {
    throw new UserError(`--resume: ${err instanceof Error ? err.message : String(err)}`);
  }
  const scenario = validateScenario(checkpoint.scenario, `${outDir}/checkpoint.json (scenario)`);
  if (checkpoint.round >= scenario.federation.rounds)
    throw new UserError(`--resume: ${outDir} already ran all ${scenario.federation.rounds} rounds`);
  return {
    loaded: { scenario, file: checkpoint.scenarioFile, raw: checkpoint.scenario as unknown as Record<string, unknown> },
    checkpoint,
    outDir,
  };
}

interface RunFlags {
  out?: string;
  overwrite?: boolean;
  seed?: string;
  set: string[];
  quiet?: boolean;
  dashboard?: string;
  dashboardHost?: string;
  resume?: string;
}

/** Exit status of a run that finished but whose every attack failed. */
export const EXIT_ALL_ATTACKS_FAILED = 3;

/** `--resume DIR` excludes a scenario, --out, --seed and --set; without it the scenario is required. */
function checkRunArguments(scenarioArg: string | undefined, opts: RunFlags): void {
  if (opts.resume !== undefined && (scenarioArg !== undefined || opts.out || opts.seed || opts.set.length)) {
    throw new UserError(
      '--resume DIR takes the scenario, seed, overrides and output folder from DIR/checkpoint.json; give no scenario, --out, --seed or --set',
    );
  }
  if (opts.resume === undefined && scenarioArg === undefined)
    throw new UserError('missing the scenario (a file or a built-in name), or --resume DIR');
}

interface PreparedRun {
  loaded: LoadedScenario;
  resumed: ReturnType<typeof resumeFrom> | null;
  outDir: string;
}

/** The scenario to run (loaded, or taken from the checkpoint with --resume) and its prepared output folder. */
function prepareRun(scenarioArg: string | undefined, opts: RunFlags): PreparedRun {
  const resumed = opts.resume === undefined ? null : resumeFrom(opts.resume);
  const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
  const loaded = resumed?.loaded ?? loadScenario(scenarioArg as string, opts.set, seed);
  if (resumed && loaded.scenario.sweep) throw new UserError('--resume: sweeps cannot be resumed');
  // The name is free text: as a folder name it must stay one component inside runs/.
  const outDir = resumed?.outDir ?? path.resolve(opts.out ?? path.join('runs', `${safeFolderName(loaded.scenario.name)}-${timestamp()}`));
  if (!resumed) prepareOutDir(outDir, { overwrite: opts.overwrite ?? false });
  return { loaded, resumed, outDir };
}

/** `--dashboard <port>`: start the live dashboard and print its URL; null without the option. */
async function openDashboard(opts: RunFlags, events: RunEvents, title: string): Promise<Dashboard | null> {
  const dashboardPort = opts.dashboard === undefined ? undefined : parsePort(opts.dashboard, '--dashboard');
  const dashboard =
    dashboardPort === undefined
      ? null
      : await startDashboard({
          events,
          port: dashboardPort,
          host: dashboardHost(opts.dashboardHost),
          title,
        }).catch((err: Error) => {
          throw new UserError(err.message);
        });
  if (dashboard) process.stderr.write(`dashboard: ${dashboard.url}\n`);
  return dashboard;
}

type OnListening = (info: { port: number; tokens: string[] }) => void;

/** Browser clients join through the dashboard: require it, and offer it their slots once the server listens. */
function browserSlotOffer(loaded: LoadedScenario, dashboard: Dashboard | null): OnListening | undefined {
  const browserClients = loaded.scenario.federation.browserClients;
  if (browserClients > 0 && !dashboard) {
    throw new UserError(
      `${loaded.scenario.name}: federation.browserClients is ${browserClients}: browsers join through the dashboard's draw page, so add --dashboard <port>`,
    );
  }
  // The reserved slots are the last clients; the draw page hands each out once.
  return dashboard && browserClients > 0
    ? ({ port, tokens }: { port: number; tokens: string[] }) => {
        dashboard.offerBrowserSlots(tokens.slice(-browserClients).map((token) => ({ port, token })));
        process.stderr.write(
          `draw a digit: ${dashboard.url.replace('/?token=', '/draw?token=')} (the run waits for ${browserClients} browser client${browserClients === 1 ? '' : 's'})\n`,
        );
      }
    : undefined;
}

/** `--quiet`: one backend line for the whole run and event-style progress; returns the detach function. */
async function setUpQuiet(quiet: boolean | undefined, events: RunEvents): Promise<() => void> {
  if (quiet) {
    // This process says which backend it uses; the client processes it forks stay silent about theirs.
    await initBackend();
    process.env.FEDLEAK_QUIET_BACKEND = '1';
  }
  return quiet ? attachProgressPrinter(events, { style: 'events' }) : () => undefined;
}

/** A run that was aborted, or whose every attack failed, sets a non-zero exit status and says why. */
function setExitStatus(results: RunResults, outDir: string): void {
  if (results.status === 'aborted') {
    // What ran is in results.json; the exit status says the run did not complete.
    process.stderr.write(
      `fedleak run: aborted: ${results.stopReason ?? 'no reason given'}; results so far: ${path.join(outDir, 'results.json')}\n`,
    );
    process.exitCode = 1;
  } else if (results.attacks.length > 0 && results.attacks.every((a) => a.error !== undefined)) {
    // Nothing was reconstructed: a run whose every attack failed must not read as "no leakage".
    process.stderr.write(`fedleak run: every attack failed (${results.attacks.length}); first error: ${results.attacks[0].error}\n`);
    process.exitCode = EXIT_ALL_ATTACKS_FAILED;
  }
}

/** The closing summary on stdout: rounds or variants, accuracy, attack count, privacy, output paths, attack table. */
function printRunSummary(name: string, results: RunResults, outDir: string, quiet: boolean | undefined): void {
  const last = results.rounds[results.rounds.length - 1];
  const what = results.sweep
    ? `sweep of ${results.sweep.length} variants`
    : `${results.rounds.length} rounds` +
      (last && Number.isFinite(last.testAccuracy)
        ? `, final test accuracy ${(100 * last.testAccuracy).toFixed(1)}%`
        : last
          ? ', test accuracy not measured'
          : '');
  const released = results.release ? `, ${results.release.attacks.length} attacks on the released model` : '';
  process.stdout.write(`${name}: ${what}, ${results.attacks.length} attack results${released}\n${privacyLines(results)}`);
  process.stdout.write(`results: ${path.join(outDir, 'results.json')}\nreport: ${path.join(outDir, REPORT_HTML)}\n`);
  if (results.attacks.length > 0 && !quiet) process.stdout.write(`\n${attackTable(results.attacks)}\n`);
}

/** A class looks at the finished run too: keep serving until the person at the terminal is done. */
async function serveUntilInterrupted(dashboard: Dashboard): Promise<void> {
  process.stderr.write(`dashboard: the run is over; still serving ${dashboard.url} — press Ctrl-C to exit\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await dashboard.close();
}

/** `fedleak run [scenario]`: load or resume, optional dashboard, run, report, exit status. */
async function runAction(scenarioArg: string | undefined, opts: RunFlags): Promise<void> {
  checkRunArguments(scenarioArg, opts);
  const { loaded, resumed, outDir } = prepareRun(scenarioArg, opts);
  // A scenario with `sweep` runs once per variant and writes the combined table (server/run/sweep.ts).
  const run = loaded.scenario.sweep ? runSweep : runScenario;
  const events = createRunEvents();
  const dashboard = await openDashboard(opts, events, loaded.scenario.name);
  const onListening = browserSlotOffer(loaded, dashboard);
  const detachQuiet = await setUpQuiet(opts.quiet, events);
  const results = await run(loaded, {
    outDir,
    progress: !opts.quiet,
    events,
    ...(resumed ? { resume: resumed.checkpoint } : {}),
    ...(onListening ? { onListening } : {}),
  })
    .catch(async (err: unknown) => {
      await dashboard?.close();
      throw err;
    })
    .finally(detachQuiet);
  setExitStatus(results, outDir);
  printRunSummary(loaded.scenario.name, results, outDir, opts.quiet);
  if (dashboard) await serveUntilInterrupted(dashboard);
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a scenario: server, client processes, attacks; writes <out>/results.json and images')
    .argument('[scenario]', 'a scenario file, or the name of a built-in scenario (see `fedleak scenarios`); omitted with --resume')
    .option('-o, --out <dir>', 'output folder (default runs/<name>-<timestamp>)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <path=value>', 'override a scenario field, e.g. --set federation.rounds=3 (repeatable; value is JSON)', collect, [])
    .option('-q, --quiet', 'one line per finished round and attack, no bars, one backend line for the whole run')
    .option('--overwrite', 'empty a non-empty --out folder first (otherwise it is refused: old and new results would mix)')
    .option('--resume <dir>', 'continue a killed or interrupted run from <dir>/checkpoint.json (same scenario, seed and output folder)')
    .option(
      '--dashboard <port>',
      'serve a live dashboard (accuracy, attack progress, reconstructions) on http://127.0.0.1:<port>/?token=…; it stays up after the run until Ctrl-C',
    )
    .option(
      '--dashboard-host <host>',
      'listen address of the dashboard (default 127.0.0.1); another address exposes reconstructions of private data to the network (the token still guards it)',
    )
    .action(runAction);
}
