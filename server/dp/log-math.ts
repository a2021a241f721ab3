/**
 * Log-space helpers for the RDP accountant: sums of terms that would overflow or underflow
 * as plain doubles (binomial coefficients times e^{i²/2σ²}, erfc tails).
 */

/** log(e^a + e^b), exact when either side is -Infinity. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** log(e^a − e^b) for a ≥ b; -Infinity when they are equal. */
export function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) throw new RangeError(`logSub: log-difference of a smaller from a larger term (${a} < ${b})`);
  if (a === b) return -Infinity;
  // log(e^a - e^b) = a + log(1 - e^{b-a})
  return a + Math.log(-Math.expm1(b - a));
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log erfc(x) to near double precision for all real x. Small |x|: erfc = 1 − erf with erf from
 * its all-positive-terms series (no cancellation inside erf); x ≥ 2: a continued fraction
 * evaluated in log space, so it neither underflows (erfc(40) ≈ 1e-697) nor loses digits.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x < 2) return Math.log(erfcSmall(x));
  return -x * x - LOG_SQRT_PI + Math.log(erfcContinuedFractionTail(x));
}

/** erf(x) = 2/√π · e^{−x²} · Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)); every term positive for x ≥ 0. */
function erfPositive(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

function erfcSmall(x: number): number {
  if (x < 0) {
    if (x < -6) return 2; // erf(-6) = -1 + 2e-17
    return 1 + erfPositive(-x);
  }
  return 1 - erfPositive(x);
}

/**
 * erfc(x)·√π·e^{x²} for x ≥ 2, from erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
 * by the modified Lentz algorithm.
 */
function erfcContinuedFractionTail(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 10000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / f;
}
