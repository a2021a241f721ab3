/** Per-client tokens: random secrets the server generates, prints or writes to a file, and requires on connect. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';

export interface ClientIdentity {
  clientId: string;
  /** 0-based; selects the client's data shard. */
  clientIndex: number;
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

/** Lines "<clientId> <token>", mode 0600 (the tokens are the clients' credentials). */
export function writeTokensFile(file: string, tokens: ReadonlyMap<string, ClientIdentity>): void {
  const lines = [...tokens].map(([token, id]) => `${id.clientId} ${token}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Tokens in client order. */
export function tokenList(tokens: ReadonlyMap<string, ClientIdentity>): string[] {
  return [...tokens].sort((a, b) => a[1].clientIndex - b[1].clientIndex).map(([t]) => t);
}
