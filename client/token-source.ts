/**
 * Where a `fedleak client` gets its tokens: `--token-file FILE` (lines "<clientId> <token>" as the
 * server writes them, or bare tokens; blank lines and "#" comments ignored), the environment
 * variable FEDLEAK_TOKEN (comma-separated), or `--token` (comma-separated; visible in `ps`, so
 * the other two are preferred).
 */
import * as fs from 'node:fs';

export class TokenSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenSourceError';
  }
}

/** Tokens from a file only its owner can read. */
export function readTokenFile(file: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new TokenSourceError(
      `--token-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  if (!st.isFile()) throw new TokenSourceError(`--token-file ${file}: not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new TokenSourceError(
      `--token-file ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: other users can read your tokens; run "chmod 600 ${file}"`,
    );
  }
  const tokens: string[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const text = line.replace(/#.*/, '').trim();
      if (!text) return;
      const words = text.split(/\s+/);
      if (words.length > 2) throw new TokenSourceError(`--token-file ${file}, line ${i + 1}: expected "<clientId> <token>" or "<token>"`);
      tokens.push(words[words.length - 1]!);
    });
  if (tokens.length === 0) throw new TokenSourceError(`--token-file ${file}: no tokens in the file`);
  return tokens;
}

export function splitTokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** --token and --token-file together; FEDLEAK_TOKEN when neither is given. */
export function resolveTokens(opts: { token?: string[]; tokenFile?: string; env?: NodeJS.ProcessEnv }): string[] {
  const tokens = [...(opts.token ?? []), ...(opts.tokenFile ? readTokenFile(opts.tokenFile) : [])];
  if (tokens.length > 0) return tokens;
  const fromEnv = splitTokens((opts.env ?? process.env).FEDLEAK_TOKEN ?? '');
  if (fromEnv.length > 0) return fromEnv;
  throw new TokenSourceError('no client token: give --token-file FILE (preferred), set FEDLEAK_TOKEN, or pass --token T[,T…]');
}
