import type { Command } from 'commander';
import * as path from 'node:path';
import { loadScenario } from '../../server/scenario/load';
import { runScenario } from '../../server/run';
import { checkTokensFileTarget } from '../../server/coordinator/tokens';
import { prepareOutDir, safeFolderName } from '../../server/run/out-dir';
import { UserError } from './errors';
import { collect, parsePort, parseSeed } from './options';

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

interface ServerFlags {
  scenario: string;
  port: string;
  host: string;
  tokens?: string;
  out?: string;
  overwrite?: boolean;
  seed?: string;
  set: string[];
  wait?: string;
  quiet?: boolean;
}

/** `--host 0.0.0.0` (or `::`) listens on every interface: say so on stderr. */
function warnIfWildcard(host: string, port: number): void {
  if (isWildcard(host)) {
    process.stderr.write(
      `fedleak server: warning: --host ${host} accepts connections from every network interface; ` +
        `anyone who can reach port ${port} can try to connect (clients still need their tokens). Use a firewall or a specific address.\n`,
    );
  }
}

/** Once listening: the address, the model hash, the client tokens (to the file or stdout) and how to start clients. */
function announceListening(tokensFile: string | undefined) {
  return ({ port: p, host, tokens, modelHash }: { port: number; host: string; tokens: string[]; modelHash: string }): void => {
    process.stderr.write(`fedleak server: listening on ws://${host}:${p}, waiting for ${tokens.length} clients\n`);
    process.stderr.write(`model hash (clients pin it with --guards pin-model --model-hash): ${modelHash}\n`);
    if (tokensFile) process.stderr.write(`tokens written to ${tokensFile}\n`);
    else tokens.forEach((t, i) => process.stdout.write(`c${i} ${t}\n`));
    process.stderr.write(`start clients with: fedleak client --server ws://HOST:${p} --token-file FILE (or FEDLEAK_TOKEN=TOKEN)\n`);
  };
}

/** `fedleak server`: validate, prepare the output folder, run the coordinator only, print the summary. */
async function serverAction(opts: ServerFlags): Promise<void> {
  const loaded = loadScenario(opts.scenario, opts.set, opts.seed === undefined ? undefined : parseSeed(opts.seed));
  const port = parsePort(opts.port, '--port');
  const wait = opts.wait === undefined ? 0 : Number(opts.wait);
  if (!Number.isFinite(wait) || wait < 0) throw new UserError(`--wait ${opts.wait}: expected a number of seconds`);
  const outDir = path.resolve(opts.out ?? path.join('runs', `${safeFolderName(loaded.scenario.name)}-server`));
  prepareOutDir(outDir, { overwrite: opts.overwrite ?? false });
  const tokensFile = opts.tokens ? path.resolve(opts.tokens) : undefined;
  // Before any data is loaded: a tokens file others can read is refused at once.
  if (tokensFile) checkTokensFileTarget(tokensFile);
  warnIfWildcard(opts.host, port);
  let results: Awaited<ReturnType<typeof runScenario>>;
  try {
    results = await runScenario(loaded, {
      outDir,
      progress: !opts.quiet,
      spawnClients: false,
      host: opts.host,
      port,
      tokensFile,
      registrationTimeoutMs: wait * 1000,
      onListening: announceListening(tokensFile),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UserError(`cannot listen on ${opts.host}:${port}: ${(err as Error).message}; choose another --port or --host`);
    }
    throw err;
  }
  const last = results.rounds[results.rounds.length - 1];
  process.stdout.write(
    `${loaded.scenario.name}: ${results.rounds.length} rounds${last ? (Number.isFinite(last.testAccuracy) ? `, final test accuracy ${(100 * last.testAccuracy).toFixed(1)}%` : ', test accuracy not measured') : ''}` +
      `\nresults: ${path.join(outDir, 'results.json')}\n`,
  );
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'run only the coordinator: wait for `fedleak client` processes (possibly on other machines), run the rounds, write results',
    )
    .requiredOption('-s, --scenario <scenario>', 'a scenario file or built-in scenario name')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', '8787')
    .option(
      '--host <host>',
      'address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 exposes the server to the network)',
      '127.0.0.1',
    )
    .option('--tokens <file>', 'write the client tokens ("<clientId> <token>" per line) to this file instead of printing them')
    .option('-o, --out <dir>', 'output folder (default runs/<name>-server)')
    .option('--overwrite', 'empty a non-empty --out folder first (otherwise it is refused)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <path=value>', 'override a scenario field (repeatable; value is JSON)', collect, [])
    .option('--wait <seconds>', 'give up if not every client has connected after this long (default: wait forever)')
    .option('-q, --quiet', 'no progress lines')
    .action(serverAction);
}
