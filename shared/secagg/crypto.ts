/**
 * The cryptographic primitives of secure aggregation, all from node:crypto:
 * X25519 key agreement, HKDF-SHA256 key derivation, AES-256-GCM for the encrypted shares,
 * AES-256-CTR as the pseudo-random generator that expands a 32-byte seed into mask words.
 * Keys travel as raw 32-byte strings so that messages stay plain Uint8Array fields.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { endianness } from 'node:os';
import { SecAggError } from './errors';

export const KEY_BYTES = 32;
export const SEED_BYTES = 32;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

export interface KeyPair {
  /** Raw 32-byte X25519 public key. */
  publicKey: Uint8Array;
  /** Raw 32-byte X25519 private key. */
  secretKey: Uint8Array;
}

// Importing a key into OpenSSL is the slow part of an agreement (DER import costs ~1 ms), so key
// objects are built from JWK (raw import, ~0.1 ms) and cached per byte array: a client reuses its
// own secret keys and each peer's public keys for every agreement in a round.
const privateCache = new WeakMap<Uint8Array, KeyObject>();
const publicCache = new WeakMap<Uint8Array, KeyObject>();
// A private JWK must carry "x", but node derives the public half from "d" alone (publicKeyOf relies
// on that, and the tests check it), so any well-formed placeholder does.
const PLACEHOLDER_X = Buffer.alloc(KEY_BYTES).toString('base64url');

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const pair = {
    publicKey: new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')),
    secretKey: new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')),
  };
  privateCache.set(pair.secretKey, privateKey);
  publicCache.set(pair.publicKey, publicKey);
  return pair;
}

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new SecAggError(`${what} must be ${KEY_BYTES} raw bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
  }
}

// A fixed secret for the low-order test below; any clamped scalar kills the small-order component.
let probeKey: KeyObject | null = null;

/**
 * Throws unless `publicKey` is a canonical X25519 public key of large order. The length check alone
 * lets through the points of order 1, 2, 4 and 8 (u = 0, 1, p−1, …) and encodings ≥ p: with such a
 * key every agreement gives the same all-zero or predictable secret, so a client lying with one
 * would make pairwise masks known to the server or to others.
 */
export function checkPublicKey(publicKey: Uint8Array, what: string): void {
  checkKey(publicKey, what);
  if (publicKey[31]! & 0x80) throw new SecAggError(`${what} is not a canonical X25519 key (top bit set)`);
  if (publicKey[31] === 0x7f && publicKey[0]! >= 0xed && publicKey.subarray(1, 31).every((b) => b === 0xff)) {
    throw new SecAggError(`${what} is not a canonical X25519 key (encodes a value ≥ 2^255 − 19)`);
  }
  probeKey ??= generateKeyPairSync('x25519').privateKey;
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: probeKey, publicKey: publicKeyObject(publicKey) });
  } catch {
    throw new SecAggError(`${what} is a low-order X25519 point (every agreement with it gives the all-zero secret)`);
  }
  if (shared.every((b) => b === 0))
    throw new SecAggError(`${what} is a low-order X25519 point (every agreement with it gives the all-zero secret)`);
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  checkKey(secretKey, 'X25519 secret key');
  let key = privateCache.get(secretKey);
  if (!key) {
    const d = Buffer.from(secretKey.buffer, secretKey.byteOffset, secretKey.length).toString('base64url');
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: PLACEHOLDER_X }, format: 'jwk' });
    privateCache.set(secretKey, key);
  }
  return key;
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  checkKey(publicKey, 'X25519 public key');
  let key = publicCache.get(publicKey);
  if (!key) {
    const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('base64url');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    publicCache.set(publicKey, key);
  }
  return key;
}

/** The public key belonging to a (reconstructed) secret key: how the server checks a rebuilt s_v^SK. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  const pub = createPublicKey(privateKeyObject(secretKey));
  return new Uint8Array(Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url'));
}

/**
 * X25519 agreement followed by HKDF-SHA256, so the raw curve point is never used as a key.
 * `purpose` separates the share-encryption key from the mask seed derived from another key pair.
 */
export function agree(secretKey: Uint8Array, peerPublicKey: Uint8Array, purpose: 'share-encryption' | 'pairwise-mask'): Uint8Array {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(secretKey), publicKey: publicKeyObject(peerPublicKey) });
  } catch (err) {
    // Low-order points give an all-zero secret, which node rejects: a malformed key, not a crash.
    throw new SecAggError(`X25519 key agreement failed: ${(err as Error).message}`);
  }
  return new Uint8Array(hkdfSync('sha256', shared, 'fedleak-secagg/v1', `fedleak-secagg/v1 ${purpose}`, KEY_BYTES));
}

export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}

/** Authenticated encryption: iv ‖ ciphertext ‖ tag. `aad` binds sender, recipient and round. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Uint8Array {
  checkKey(key, 'AES-256-GCM key');
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]));
}

export function sealedLength(plaintextBytes: number): number {
  return GCM_IV_BYTES + plaintextBytes + GCM_TAG_BYTES;
}

/** Decrypts and authenticates, or throws a SecAggError naming `what` (never returns unauthenticated data). */
export function open(key: Uint8Array, sealed: Uint8Array, aad: string, what: string): Uint8Array {
  checkKey(key, 'AES-256-GCM key');
  if (sealed.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new SecAggError(`${what}: ciphertext of ${sealed.length} bytes is too short`);
  const iv = sealed.subarray(0, GCM_IV_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  const body = sealed.subarray(GCM_IV_BYTES, sealed.length - GCM_TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    throw new SecAggError(`${what}: authentication failed (tampered, for another round, or not addressed to this client)`);
  }
}

const ZERO_IV = Buffer.alloc(16);
if (endianness() !== 'LE') throw new Error('secure aggregation assumes a little-endian host (mask words are read in host order)');

/**
 * The mask PRG: AES-256-CTR keystream under a 32-byte seed, read as little-endian uint32 words.
 * A zero IV is safe because every seed (b_u, or a pairwise key) is fresh for one round and used once.
 */
export function prgWords(seed: Uint8Array, count: number): Uint32Array {
  checkKey(seed, 'PRG seed');
  const cipher = createCipheriv('aes-256-ctr', seed, ZERO_IV);
  const stream = Buffer.concat([cipher.update(Buffer.alloc(count * 4)), cipher.final()]);
  const words = new Uint32Array(count);
  // Words are read in host order; fedleak checks at load that the host is little-endian.
  new Uint8Array(words.buffer).set(stream);
  return words;
}

/** SHA-256 commitment to the self-mask seed, so the server can tell a wrong share from a right one. */
export function commitSeed(seed: Uint8Array, round: number, clientId: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(`fedleak-secagg/v1 seed-commitment round=${round} client=${clientId}\n`).update(seed).digest(),
  );
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
