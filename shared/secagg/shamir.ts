/**
 * t-out-of-n Shamir sharing of 32-byte secrets (the self-mask seed b_u and the mask secret key
 * s_u^SK), over GF(2^8) by the audited `shamir-secret-sharing` package. Each share is the secret's
 * length plus one byte, its x-coordinate. The package needs t ≥ 2; t = 1 is replication (every
 * share is the secret), which we do ourselves so a cohort of one still runs.
 */
import { combine, split } from 'shamir-secret-sharing';
import { SecAggError } from './errors';

export const MAX_SHARES = 255;

export async function shareSecret(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) {
    throw new SecAggError(`Shamir sharing: share count must be an integer in 1..${MAX_SHARES}, got ${shares}`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new SecAggError(`Shamir sharing: threshold must be an integer in 1..${shares} (the share count), got ${threshold}`);
  }
  if (threshold === 1) {
    return Array.from({ length: shares }, (_, i) => {
      const share = new Uint8Array(secret.length + 1);
      share.set(secret);
      share[secret.length] = i + 1;
      return share;
    });
  }
  if (shares === 1) throw new SecAggError('Shamir sharing: one share cannot carry a threshold above 1');
  return split(new Uint8Array(secret), shares, threshold);
}

/**
 * Rebuilds a secret from at least `threshold` shares. With more shares than the threshold every share
 * takes part, so one wrong share corrupts the result; callers verify it (public key or commitment).
 */
export async function combineShares(shares: Uint8Array[], threshold: number, what: string): Promise<Uint8Array> {
  if (shares.length < threshold) {
    throw new SecAggError(`${what}: ${shares.length} share(s) received, ${threshold} needed`);
  }
  const length = shares[0]!.length;
  if (shares.some((s) => s.length !== length) || length < 2) {
    throw new SecAggError(`${what}: shares have different or too short lengths`);
  }
  if (threshold === 1 || shares.length === 1) return shares[0]!.slice(0, length - 1);
  const xs = new Set(shares.map((s) => s[length - 1]!));
  if (xs.size !== shares.length) throw new SecAggError(`${what}: two shares carry the same x-coordinate`);
  try {
    // The package insists on plain Uint8Array (msgpack hands us Buffers): copy.
    return await combine(shares.map((s) => new Uint8Array(s)));
  } catch (err) {
    throw new SecAggError(`${what}: ${(err as Error).message}`);
  }
}
