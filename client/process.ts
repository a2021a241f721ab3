/** A client process: one or more virtual clients (one connection and token each), run concurrently. */
import { initBackend } from '../shared/tensor/backend';
import { runSession, type SessionEnd } from './session';
import { printable } from '../shared/text/printable';
import { DEFAULT_CONNECT_DEADLINE_MS, waitForServer } from './reach';
import { loadClientData, type OwnData } from './local-data';
import type { GuardConfig } from '../shared/guards';
import { checkGuardConfig } from './guards';

export interface ClientProcessOptions {
  /** ws://host:port of the coordinator. */
  server: string;
  /** One token per virtual client. */
  tokens: string[];
  log?: (line: string) => void;
  /** Log a line per client on connect. */
  verbose?: boolean;
  /** Answer the simulator's evaluation requests (raw examples, plain inputs); only for `fedleak run` or an explicit opt-in. */
  allowEvaluation?: boolean;
  /** How long to retry while the server is not accepting connections (default 10 s). */
  connectDeadlineMs?: number;
  /** Client-held data: one --data PATH per token (see client/local-data.ts); absent = rebuild shards from the scenario. */
  data?: string[];
  /** With `data`: answer the evaluation channel with the examples used. */
  shareTruth?: boolean;
  /** The client's own guards on the server's model (client/guards). */
  guards?: GuardConfig;
}

export async function runClientProcess(opts: ClientProcessOptions): Promise<SessionEnd[]> {
  if (opts.tokens.length === 0) throw new Error('no client token given');
  if (!/^wss?:\/\//.test(opts.server)) throw new Error(`server address ${JSON.stringify(opts.server)}: expected ws://HOST:PORT`);
  if (opts.data && opts.data.length !== opts.tokens.length) {
    throw new Error(`${opts.data.length} --data path(s) for ${opts.tokens.length} token(s): each virtual client needs its own data`);
  }
  // Loaded before connecting, so a bad file is reported before the server counts on this client.
  const shareTruth = opts.shareTruth ?? false;
  const own: (OwnData | undefined)[] = (opts.data ?? []).map((source) => ({ dataset: loadClientData(source), source, shareTruth }));
  if (opts.guards) checkGuardConfig(opts.guards);
  await initBackend();
  const write = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Lines can quote what the server sent (error messages, refusal reasons): no control characters.
  const log = (line: string) => write(printable(line, 2000));
  await waitForServer(opts.server, opts.connectDeadlineMs ?? DEFAULT_CONNECT_DEADLINE_MS, log);
  return Promise.all(
    opts.tokens.map((t, i) =>
      runSession(opts.server, t, log, opts.verbose ?? false, {
        allowEvaluation: opts.allowEvaluation ?? false,
        ...(own[i] ? { own: own[i] } : {}),
        ...(opts.guards ? { guards: opts.guards } : {}),
      }),
    ),
  );
}
