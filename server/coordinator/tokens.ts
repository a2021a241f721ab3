/** Per-client tokens: random secrets the server generates, prints or writes to a file, and requires on connect. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';

export interface ClientIdentity {
  clientId: string;
  /** 0-based; selects the client's data shard. */
  clientIndex: number;
}

/** A tokens file that cannot be written safely (shown to the user as is). */
export class TokensFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokensFileError';
  }
}

export function clientIdOf(index: number): string {
  return `c${index}`;
}

/** token → identity, one 128-bit token per client. */
export function generateTokens(clients: number): Map<string, ClientIdentity> {
  const tokens = new Map<string, ClientIdentity>();
  for (let i = 0; i < clients; i++) tokens.set(randomBytes(16).toString('hex'), { clientId: clientIdOf(i), clientIndex: i });
  return tokens;
}

/**
 * Throws unless `file` can hold credentials: absent, or a regular file that only its owner can
 * read and write. Called before the run starts, and again by writeTokensFile.
 */
export function checkTokensFileTarget(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new TokensFileError(`tokens file ${file}: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink())
    throw new TokensFileError(
      `tokens file ${file} is a symbolic link; give the real path (tokens are credentials, a link could send them elsewhere)`,
    );
  if (!st.isFile()) throw new TokensFileError(`tokens file ${file} exists and is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new TokensFileError(
      `tokens file ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: other users can read it, and it would hold every client's token. ` +
        `Delete it or run "chmod 600 ${file}", then start again.`,
    );
  }
}

/** Lines "<clientId> <token>", mode 0600 whether the file is new or rewritten (the tokens are the clients' credentials). */
export function writeTokensFile(file: string, tokens: ReadonlyMap<string, ClientIdentity>): void {
  checkTokensFileTarget(file);
  const lines = [...tokens].map(([token, id]) => `${id.clientId} ${token}`);
  // O_NOFOLLOW: a link planted between the check and the open is refused, not followed.
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${lines.join('\n')}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Tokens in client order. */
export function tokenList(tokens: ReadonlyMap<string, ClientIdentity>): string[] {
  return [...tokens].sort((a, b) => a[1].clientIndex - b[1].clientIndex).map(([t]) => t);
}
