/**
 * Fixed-point encoding of float updates for aggregation mod 2^32.
 *
 * A value x is clipped to [-c, c] (c = clippingRange), shifted and scaled to [0, R]
 * (R = quantizationRange) and rounded stochastically — up with probability equal to the fractional
 * part — so the encoding is unbiased. The rounding draws from a seeded Rng, so runs reproduce.
 *
 * Headroom: every encoded value lies in [0, R], so the sum of n of them lies in [0, n·R]. The sum is
 * read back unambiguously as long as n·R < 2^32 (R = 2^22 admits up to 1023 clients); `checkHeadroom`
 * refuses a cohort that could wrap. Decoding a sum of m summands: S·2c/R − m·c. Each summand is off
 * by less than one step 2c/R, so the decoded sum is within m·2c/R of the plain sum of clipped values.
 *
 * Values beyond ±c are clipped, counted and reported back (never silently); NaN/∞ are refused.
 */
import type { Rng } from '../random';
import { SecAggError } from './errors';

export const MODULUS = 2 ** 32;

export interface QuantizationParams {
  clippingRange: number;
  quantizationRange: number;
}

export interface Quantized {
  words: Uint32Array;
  /** Entries whose magnitude exceeded clippingRange and were clipped. */
  clipped: number;
  /** Largest magnitude seen before clipping. */
  maxAbs: number;
}

export function quantizationStep(p: QuantizationParams): number {
  return (2 * p.clippingRange) / p.quantizationRange;
}

export function checkQuantizationParams(p: QuantizationParams): void {
  if (!(p.clippingRange > 0) || !Number.isFinite(p.clippingRange)) {
    throw new SecAggError(`secure aggregation: clippingRange must be a positive number, got ${p.clippingRange}`);
  }
  if (!Number.isInteger(p.quantizationRange) || p.quantizationRange < 1 || p.quantizationRange >= MODULUS) {
    throw new SecAggError(`secure aggregation: quantizationRange must be an integer in 1..2^32-1, got ${p.quantizationRange}`);
  }
}

/** Throws unless the sum of `summands` encoded values cannot wrap mod 2^32. */
export function checkHeadroom(p: QuantizationParams, summands: number): void {
  checkQuantizationParams(p);
  if (summands * p.quantizationRange >= MODULUS) {
    const most = Math.floor((MODULUS - 1) / p.quantizationRange);
    throw new SecAggError(
      `secure aggregation: ${summands} clients × quantizationRange ${p.quantizationRange} ≥ 2^32, the sum could wrap; ` +
        `use at most ${most} clients or a smaller quantizationRange`,
    );
  }
}

export function quantize(values: Float32Array, p: QuantizationParams, rng: Rng): Quantized {
  checkQuantizationParams(p);
  const c = p.clippingRange;
  const scale = p.quantizationRange / (2 * c);
  const words = new Uint32Array(values.length);
  let clipped = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    let x = values[i]!;
    if (!Number.isFinite(x)) throw new SecAggError(`secure aggregation: update entry ${i} is ${x}; only finite values can be aggregated`);
    const a = Math.abs(x);
    if (a > maxAbs) maxAbs = a;
    if (a > c) {
      clipped++;
      x = x > 0 ? c : -c;
    }
    const t = (x + c) * scale;
    const low = Math.floor(t);
    const q = rng.next() < t - low ? low + 1 : low;
    words[i] = Math.min(q, p.quantizationRange);
  }
  return { words, clipped, maxAbs };
}

/** Decodes a sum of `summands` encoded vectors (taken mod 2^32 as an unsigned integer). */
export function dequantizeSum(sum: Uint32Array, summands: number, p: QuantizationParams): Float32Array {
  checkQuantizationParams(p);
  const step = quantizationStep(p);
  const offset = summands * p.clippingRange;
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i]! * step - offset;
  return out;
}

/** target += source mod 2^32 (Uint32Array stores the low 32 bits of the exact double sum). */
export function addInto(target: Uint32Array, source: Uint32Array): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! + source[i]!;
}

/** target −= source mod 2^32. */
export function subtractInto(target: Uint32Array, source: Uint32Array): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! - source[i]!;
}

export function wordsToBytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** Reads little-endian uint32 words; copies, since the bytes may sit at an unaligned offset. */
export function bytesToWords(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new SecAggError(`masked vector of ${bytes.length} bytes is not a whole number of 32-bit words`);
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}
