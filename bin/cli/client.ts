import type { Command } from 'commander';
import { runClientProcess } from '../../client/process';
import { UserError } from './errors';
import { collect } from './options';

function collectTokens(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((t) => t.trim()).filter(Boolean)];
}

export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('run federated clients that connect to a `fedleak server`; each rebuilds its data shard from the scenario the server sends, or trains on its own files (--data)')
    .requiredOption('--server <url>', 'the coordinator, ws://HOST:PORT')
    .requiredOption('--token <token>', 'a client token printed by the server (repeat, or comma-separate, for several virtual clients)', collectTokens)
    .option('--count <k>', 'virtual clients in this process (one connection each); needs k tokens')
    .option('--data <path>', 'train on data this client holds: an image folder or a .json data config (repeat, one per token)', collect, [])
    .option('--share-truth', "with --data: answer the simulator's evaluation channel with the examples used (default: only example counts leave)")
    .action(async (opts: { server: string; token: string[]; count?: string; data: string[]; shareTruth?: boolean }) => {
      if (!/^wss?:\/\/[^/]+/.test(opts.server)) throw new UserError(`--server ${opts.server}: expected ws://HOST:PORT`);
      if (opts.count !== undefined) {
        const k = Number(opts.count);
        if (!Number.isInteger(k) || k < 1) throw new UserError(`--count ${opts.count}: expected a positive integer`);
        if (k !== opts.token.length) throw new UserError(`--count ${k} but ${opts.token.length} token(s) given: each virtual client needs its own token`);
      }
      if (opts.data.length > 0 && opts.data.length !== opts.token.length) {
        throw new UserError(`${opts.data.length} --data path(s) but ${opts.token.length} token(s): give one --data per virtual client`);
      }
      if (opts.shareTruth && opts.data.length === 0) throw new UserError('--share-truth only applies with --data');
      const data = opts.data.length > 0 ? opts.data : undefined;
      const ends = await runClientProcess({ server: opts.server, tokens: opts.token, verbose: true, data, shareTruth: opts.shareTruth });
      const failed = ends.filter((e) => !e.clean);
      for (const e of ends) process.stderr.write(`${e.clientId ?? 'client'}: ${e.clean ? e.reason : `failed: ${e.reason}`}\n`);
      if (failed.length) throw new UserError(`${failed.length} of ${ends.length} client(s) did not finish cleanly`);
    });
}
