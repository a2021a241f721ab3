import type { Command } from 'commander';
import { runClientProcess } from '../../client/process';
import { UserError } from './errors';

function collectTokens(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((t) => t.trim()).filter(Boolean)];
}

export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('run federated clients that connect to a `fedleak server`; each rebuilds its data shard from the scenario the server sends')
    .requiredOption('--server <url>', 'the coordinator, ws://HOST:PORT')
    .requiredOption('--token <token>', 'a client token printed by the server (repeat, or comma-separate, for several virtual clients)', collectTokens)
    .option('--count <k>', 'virtual clients in this process (one connection each); needs k tokens')
    .option('--wait <seconds>', 'keep retrying this long while the server is not accepting connections', '10')
    .action(async (opts: { server: string; token: string[]; count?: string; wait: string }) => {
      const wait = Number(opts.wait);
      if (!(wait >= 0)) throw new UserError(`--wait ${opts.wait}: expected a number of seconds ≥ 0`);
      if (!/^wss?:\/\/[^/]+/.test(opts.server)) throw new UserError(`--server ${opts.server}: expected ws://HOST:PORT`);
      if (opts.count !== undefined) {
        const k = Number(opts.count);
        if (!Number.isInteger(k) || k < 1) throw new UserError(`--count ${opts.count}: expected a positive integer`);
        if (k !== opts.token.length) throw new UserError(`--count ${k} but ${opts.token.length} token(s) given: each virtual client needs its own token`);
      }
      const ends = await runClientProcess({ server: opts.server, tokens: opts.token, verbose: true, connectDeadlineMs: wait * 1000 });
      const failed = ends.filter((e) => !e.clean);
      for (const e of ends) process.stderr.write(`${e.clientId ?? 'client'}: ${e.clean ? e.reason : `failed: ${e.reason}`}\n`);
      if (failed.length) throw new UserError(`${failed.length} of ${ends.length} client(s) did not finish cleanly`);
    });
}
