import type { Command } from 'commander';
import { runClientProcess } from '../../client/process';
import { resolveTokens, splitTokens } from '../../client/token-source';
import { UserError } from './errors';
import { parseGuardList, type GuardConfig } from '../../shared/guards';

function collectTokens(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...splitTokens(value)];
}

export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('run federated clients that connect to a `fedleak server`; each rebuilds its data shard from the scenario the server sends')
    .requiredOption('--server <url>', 'the coordinator, ws://HOST:PORT')
    .option('--token-file <file>', 'read client tokens from this file ("<clientId> <token>" lines as `fedleak server --tokens` writes them, or one token per line; mode 0600)')
    .option('--token <token>', 'a client token printed by the server (repeat, or comma-separate, for several virtual clients); visible to other users in `ps`: prefer --token-file or FEDLEAK_TOKEN', collectTokens)
    .option('--count <k>', 'virtual clients in this process (one connection each); needs k tokens')
    .option('--allow-evaluation', "answer the simulator's evaluation requests (send the server this client's raw training examples and plain updates); only for a simulation you run yourself")
    .option('--guards <list>', 'check the server\'s model before training: pin-model, inspect-parameters (comma-separated); a refusal sits that round out')
    .option('--model-hash <hash>', 'pin-model: the hash of the agreed model definition, as `fedleak server` prints it (sha256:…)')
    .addHelpText('after', '\nTokens: --token-file FILE, or the environment variable FEDLEAK_TOKEN (comma-separated), or --token.')
    .action(async (opts: { server: string; token?: string[]; tokenFile?: string; count?: string; allowEvaluation?: boolean; guards?: string; modelHash?: string }) => {
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
        if (k !== tokens.length) throw new UserError(`--count ${k} but ${tokens.length} token(s) given: each virtual client needs its own token`);
      }
      if (opts.allowEvaluation) process.stderr.write('fedleak client: --allow-evaluation: this client will send its raw examples and plain updates to the server when asked\n');
      const ends = await runClientProcess({ server: opts.server, tokens, verbose: true, allowEvaluation: opts.allowEvaluation ?? false, ...(guards ? { guards } : {}) });
      const failed = ends.filter((e) => !e.clean);
      for (const e of ends) process.stderr.write(`${e.clientId ?? 'client'}: ${e.clean ? e.reason : `failed: ${e.reason}`}\n`);
      if (failed.length) throw new UserError(`${failed.length} of ${ends.length} client(s) did not finish cleanly`);
    });
}
