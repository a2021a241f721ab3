import type { Command } from 'commander';
import { runClientProcess } from '../../client/process';
import { resolveTokens, splitTokens } from '../../client/token-source';
import { UserError } from './errors';
import { collect } from './options';
import { parseGuardList, type GuardConfig } from '../../shared/guards';

function collectTokens(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...splitTokens(value)];
}

interface ClientFlags {
  server: string;
  token?: string[];
  tokenFile?: string;
  count?: string;
  allowEvaluation?: boolean;
  data: string[];
  shareTruth?: boolean;
  guards?: string;
  modelHash?: string;
  wait: string;
}

export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description(
      'run federated clients that connect to a `fedleak server`; each rebuilds its data shard from the scenario the server sends, or trains on its own files (--data)',
    )
    .requiredOption('--server <url>', 'the coordinator, ws://HOST:PORT')
    .option(
      '--token-file <file>',
      'read client tokens from this file ("<clientId> <token>" lines as `fedleak server --tokens` writes them, or one token per line; mode 0600)',
    )
    .option(
      '--token <token>',
      'a client token printed by the server (repeat, or comma-separate, for several virtual clients); visible to other users in `ps`: prefer --token-file or FEDLEAK_TOKEN',
      collectTokens,
    )
    .option('--count <k>', 'virtual clients in this process (one connection each); needs k tokens')
    .option(
      '--allow-evaluation',
      "answer the simulator's evaluation requests (send the server this client's raw training examples and plain updates); only for a simulation you run yourself",
    )
    .option('--data <path>', 'train on data this client holds: an image folder or a .json data config (repeat, one per token)', collect, [])
    .option(
      '--share-truth',
      "with --data: answer the simulator's evaluation channel with the examples used (default: only example counts leave)",
    )
    .option(
      '--guards <list>',
      "check the server's model before training: pin-model, inspect-parameters, leakage-gate (comma-separated); a refusal sits that round out",
    )
    .option('--model-hash <hash>', 'pin-model: the hash of the agreed model definition, as `fedleak server` prints it (sha256:…)')
    .option('--wait <seconds>', 'keep retrying this long while the server is not accepting connections', '10')
    .addHelpText('after', '\nTokens: --token-file FILE, or the environment variable FEDLEAK_TOKEN (comma-separated), or --token.')
    .action(async (opts: ClientFlags) => {
      const wait = Number(opts.wait);
      if (!(wait >= 0)) throw new UserError(`--wait ${opts.wait}: expected a number of seconds ≥ 0`);
      let guards: GuardConfig | undefined;
      try {
        if (opts.guards) guards = { guards: parseGuardList(opts.guards), ...(opts.modelHash ? { modelHash: opts.modelHash } : {}) };
      } catch (err) {
        throw new UserError(err instanceof Error ? err.message : String(err));
      }
      if (!/^wss?:\/\/[^/]+/.test(opts.server)) throw new UserError(`--server ${opts.server}: expected ws://HOST:PORT`);
      const tokens = resolveTokens({ token: opts.token, tokenFile: opts.tokenFile });
      if (opts.count !== undefined) {
        const k = Number(opts.count);
        if (!Number.isInteger(k) || k < 1) throw new UserError(`--count ${opts.count}: expected a positive integer`);
        if (k !== tokens.length)
          throw new UserError(`--count ${k} but ${tokens.length} token(s) given: each virtual client needs its own token`);
      }
      if (opts.data.length > 0 && opts.data.length !== tokens.length) {
        throw new UserError(`${opts.data.length} --data path(s) but ${tokens.length} token(s): give one --data per virtual client`);
      }
      if (opts.shareTruth && opts.data.length === 0) throw new UserError('--share-truth only applies with --data');
      if (opts.allowEvaluation)
        process.stderr.write(
          'fedleak client: --allow-evaluation: this client will send its raw examples and plain updates to the server when asked\n',
        );
      const data = opts.data.length > 0 ? opts.data : undefined;
      const ends = await runClientProcess({
        server: opts.server,
        tokens,
        verbose: true,
        allowEvaluation: opts.allowEvaluation ?? false,
        connectDeadlineMs: wait * 1000,
        ...(data ? { data } : {}),
        ...(opts.shareTruth ? { shareTruth: true } : {}),
        ...(guards ? { guards } : {}),
      });
      const failed = ends.filter((e) => !e.clean);
      for (const e of ends) process.stderr.write(`${e.clientId ?? 'client'}: ${e.clean ? e.reason : `failed: ${e.reason}`}\n`);
      if (failed.length) throw new UserError(`${failed.length} of ${ends.length} client(s) did not finish cleanly`);
    });
}
