/**
 * Waiting for the coordinator before the sessions start: a client started a moment before its
 * server (or against a wrong port) retries a plain TCP connect with backoff until a short deadline,
 * then says what to do instead of failing at once with ECONNREFUSED.
 */
import * as net from 'node:net';

export const DEFAULT_CONNECT_DEADLINE_MS = 10_000;

export class ServerUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

function endpoint(url: string): { host: string; port: number } {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === 'wss:' ? 443 : 80;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

function tryConnect(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(err.code ?? err.message);
    });
  });
}

/** Resolves once host:port of `url` accepts a TCP connection; rejects after `deadlineMs`. */
export async function waitForServer(url: string, deadlineMs = DEFAULT_CONNECT_DEADLINE_MS, log?: (line: string) => void): Promise<void> {
  const { host, port } = endpoint(url);
  const started = Date.now();
  let delay = 100;
  let attempts = 0;
  for (;;) {
    const failure = await tryConnect(host, port);
    attempts += 1;
    if (failure === null) return;
    const left = deadlineMs - (Date.now() - started);
    if (left <= 0) {
      throw new ServerUnreachableError(
        `cannot reach the server at ${url} (${failure}, ${attempts} attempts over ${((Date.now() - started) / 1000).toFixed(1)} s). ` +
          'Start the server first (`fedleak server <scenario>` prints the URL and one token per client), then run `fedleak client --server <url> --token <token>`.',
      );
    }
    if (attempts === 1)
      log?.(`client: ${url} is not accepting connections yet (${failure}); retrying for up to ${(deadlineMs / 1000).toFixed(0)} s`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    delay = Math.min(delay * 2, 2000);
  }
}
