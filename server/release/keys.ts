/**
 * API keys: random 256-bit tokens from node:crypto, kept in a JSON file readable by its owner only
 * (0600). The server keeps only their SHA-256 digests in memory and compares digests in constant
 * time, so neither a key's length nor its prefix leaks through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ReleaseError } from './model-file';

export const KEY_PREFIX = 'flk_';
export const KEYS_FILE_FORMAT = 'fedleak-api-keys/1';

export interface KeysFile {
  format: typeof KEYS_FILE_FORMAT;
  keys: { id: string; key: string; createdAt: string }[];
}

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Short public name of a key for logs (never the key itself). */
export function keyId(key: string): string {
  return digest(key).subarray(0, 6).toString('hex');
}

/** Reads the key file, creating it (0600) with `count` fresh keys when it does not exist. */
export function loadOrCreateKeys(file: string, count = 1): KeysFile {
  if (!fs.existsSync(file)) {
    const keys = Array.from({ length: count }, () => {
      const key = generateKey();
      return { id: keyId(key), key, createdAt: new Date().toISOString() };
    });
    const content: KeysFile = { format: KEYS_FILE_FORMAT, keys };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': never overwrite a file that appeared meanwhile; mode applies at creation.
    fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return content;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ReleaseError(`${file}: API key file is readable by others (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  let parsed: Partial<KeysFile>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<KeysFile>;
  } catch (err) {
    throw new ReleaseError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (parsed.format !== KEYS_FILE_FORMAT || !Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new ReleaseError(
      `${file}: expected {"format": "${KEYS_FILE_FORMAT}", "keys": [{"id", "key", "createdAt"}, ...]} with at least one key`,
    );
  }
  parsed.keys.forEach((k, i) => {
    if (typeof k?.key !== 'string' || !k.key.startsWith(KEY_PREFIX))
      throw new ReleaseError(`${file}: keys[${i}].key is not a ${KEY_PREFIX}… key`);
  });
  return { format: KEYS_FILE_FORMAT, keys: parsed.keys.map((k) => ({ id: keyId(k.key), key: k.key, createdAt: k.createdAt })) };
}

/** Checks bearer tokens against the known keys; answers the key's id or null. */
export class KeyRing {
  private readonly digests: { id: string; digest: Buffer }[];
  constructor(keys: readonly string[]) {
    this.digests = keys.map((k) => ({ id: keyId(k), digest: digest(k) }));
  }
  identify(token: string): string | null {
    const d = digest(token);
    let found: string | null = null;
    // Compare against every key so the time does not depend on which one matched.
    for (const k of this.digests) if (timingSafeEqual(d, k.digest)) found = k.id;
    return found;
  }
}
