/**
 * Entry of a client process spawned by `fedleak run`: node dist/client/main.js --server URL, with the
 * tokens in FEDLEAK_CLIENT_TOKENS (T[,T…]) or given as --token T[,T…]. `fedleak run` adds
 * --allow-evaluation (its clients are simulated, their truth scores the attacks); without it the
 * client refuses the evaluation channel.
 * Exits 0 when every virtual client was shut down cleanly by the server, 1 otherwise. When started
 * with an IPC channel (child_process.fork), it exits as soon as the parent goes away, so a killed
 * run never leaves clients behind.
 */
import { runClientProcess } from './process';
import { parseGuardList, type GuardConfig } from '../shared/guards';

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const server = argValue(argv, '--server');
  // Tokens come by environment from `fedleak run` (not visible in `ps`), or by --token.
  const tokens = (argValue(argv, '--token') ?? process.env.FEDLEAK_CLIENT_TOKENS ?? '').split(',').filter(Boolean);
  if (!server || tokens.length === 0) {
    process.stderr.write('usage: node dist/client/main.js --server ws://HOST:PORT --token T[,T2,…]\n');
    process.exit(2);
  }
  if (process.send) process.on('disconnect', () => process.exit(1));
  const guardList = argValue(argv, '--guards');
  const modelHash = argValue(argv, '--model-hash');
  const guards: GuardConfig | undefined = guardList
    ? { guards: parseGuardList(guardList), ...(modelHash ? { modelHash } : {}) }
    : undefined;
  const ends = await runClientProcess({
    server,
    tokens,
    verbose: argv.includes('--verbose'),
    allowEvaluation: argv.includes('--allow-evaluation'),
    ...(guards ? { guards } : {}),
  });
  for (const e of ends) if (!e.clean) process.stderr.write(`${e.clientId ?? 'client'}: ${e.reason}\n`);
  process.exit(ends.every((e) => e.clean) ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`fedleak client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
