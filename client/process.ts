/** A client process: one or more virtual clients (one connection and token each), run concurrently. */
import { initBackend } from '../shared/tensor/backend';
import { runSession, type SessionEnd } from './session';
import { printable } from '../shared/text/printable';
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
  /** The client's own guards on the server's model (client/guards). */
  guards?: GuardConfig;
}

export async function runClientProcess(opts: ClientProcessOptions): Promise<SessionEnd[]> {
  if (opts.tokens.length === 0) throw new Error('no client token given');
  if (!/^wss?:\/\//.test(opts.server)) throw new Error(`server address ${JSON.stringify(opts.server)}: expected ws://HOST:PORT`);
  if (opts.guards) checkGuardConfig(opts.guards);
  await initBackend();
  const write = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Lines can quote what the server sent (error messages, refusal reasons): no control characters.
  const log = (line: string) => write(printable(line, 2000));
  return Promise.all(
    opts.tokens.map((t) => runSession(opts.server, t, log, opts.verbose ?? false, opts.allowEvaluation ?? false, opts.guards)),
  );
}
