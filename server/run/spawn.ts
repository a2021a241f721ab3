/**
 * Client OS processes for `fedleak run`: node dist/client/main.js, one per group of
 * `clientsPerProcess` tokens, forked with an IPC channel so that they exit when the run process
 * goes away, however it ends. `stop()` waits for them and kills any that linger.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const CLIENT_MAIN = path.resolve(__dirname, '..', '..', 'client', 'main.js');

export interface ClientProcesses {
  children: ChildProcess[];
  /** Rejects when a client process exits with an error before `stop()` was called. */
  failed: Promise<never>;
  /** Resolves when every process has exited (kills survivors after graceMs). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to every live process now (synchronous; for exit handlers). */
  killAll(): void;
}

/** The simulated clients' guards (scenario client.guards) as client arguments; pin-model pins the honest definition's hash. */
export function guardArgs(scenario: { client: { guards: readonly string[] } }, honestModelHash: string): string[] {
  const guards = scenario.client.guards;
  if (guards.length === 0) return [];
  return ['--guards', guards.join(','), ...(guards.includes('pin-model') ? ['--model-hash', honestModelHash] : [])];
}

export function spawnClientProcesses(
  url: string,
  tokens: string[],
  perProcess: number,
  env: NodeJS.ProcessEnv = process.env,
  extraArgs: readonly string[] = [],
): ClientProcesses {
  const children: ChildProcess[] = [];
  for (let i = 0; i < tokens.length; i += perProcess) {
    const group = tokens.slice(i, i + perProcess);
    // Tokens by environment, not argv: argv is visible to every user in `ps`.
    // --allow-evaluation: these are the simulation's own clients; their ground truth scores the attacks.
    children.push(
      fork(CLIENT_MAIN, ['--server', url, '--allow-evaluation', ...extraArgs], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...env, FEDLEAK_CLIENT_TOKENS: group.join(',') },
      }),
    );
  }
  let stopping = false;
  const exited = children.map(
    (c) =>
      new Promise<number | null>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
        else c.once('exit', (code) => resolve(code));
      }),
  );
  const failed = new Promise<never>((_, reject) => {
    children.forEach((c, i) =>
      exited[i].then((code) => {
        if (!stopping && code !== 0)
          reject(
            new Error(
              `client process ${c.pid} (clients ${i * perProcess}–${Math.min(tokens.length, (i + 1) * perProcess) - 1}) exited with code ${code}`,
            ),
          );
      }),
    );
  });
  failed.catch(() => undefined);
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  return {
    children,
    failed,
    killAll,
    async stop(graceMs = 5000) {
      stopping = true;
      const timer = setTimeout(killAll, graceMs);
      await Promise.all(exited);
      clearTimeout(timer);
    },
  };
}
