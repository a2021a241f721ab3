/**
 * IEEE 754 binary16 rounding of a float32 value, round-to-nearest-even, with subnormals and
 * overflow to ±Infinity, returned as the (exactly representable) number. Node 20 has no
 * Math.f16round; this works in double arithmetic, where every step below is exact.
 */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Largest finite half is 65504; from 65520 (halfway to 2^16) on, round-to-even overflows. */
const HALF_OVERFLOW = 65520;
const HALF_MIN_NORMAL = 2 ** -14;
const HALF_SUBNORMAL_QUANTUM = 2 ** -24;

/** Round half to even for a non-negative value. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x)) return x;
  F32[0] = x;
  const a = Math.abs(F32[0]);
  const negative = U32[0] >>> 31 === 1;
  let r: number;
  if (a >= HALF_OVERFLOW) r = Infinity;
  else if (a < HALF_MIN_NORMAL) r = roundHalfEven(a / HALF_SUBNORMAL_QUANTUM) * HALF_SUBNORMAL_QUANTUM;
  else {
    const exponent = ((U32[0] >>> 23) & 0xff) - 127; // a is a normal float32 here
    const quantum = 2 ** (exponent - 10); // 10 fraction bits in binary16
    r = roundHalfEven(a / quantum) * quantum;
  }
  return negative ? -r : r;
}
