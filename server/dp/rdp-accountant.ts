/**
 * Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism"), as used for DP-SGD and
 * DP-FedAvg. RDP is computed per step at a fixed set of orders α, multiplied by the number of
 * steps (RDP composes additively), and converted to (ε, δ)-DP with the conversion of
 * docs/defenses.md (Balle et al. 2020), taking the best order.
 *
 * Everything is in log space: for α = 1024 the binomial terms reach e^{10^5}.
 */
import { logAdd, logErfc, logSub } from './log-math';

export class AccountantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountantError';
  }
}

/** α ∈ {1.1, 1.2, …, 10.9} ∪ {11, …, 63} ∪ {128, 256, 512, 1024}. */
export const RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => (11 + k) / 10),
  ...Array.from({ length: 53 }, (_, k) => 11 + k),
  128,
  256,
  512,
  1024,
]);

export interface EpsilonResult {
  epsilon: number;
  /** The order α that gave the smallest ε. */
  order: number;
}

function checkNoiseMultiplier(z: number): void {
  if (!Number.isFinite(z) || z <= 0) {
    throw new AccountantError(`noise multiplier z must be a finite number > 0, got ${z}`);
  }
}

function checkSampleRate(q: number): void {
  if (!Number.isFinite(q) || q <= 0 || q > 1) {
    throw new AccountantError(`sample rate q must be in (0, 1], got ${q}`);
  }
}

function checkDelta(delta: number): void {
  if (!Number.isFinite(delta) || delta <= 0 || delta >= 1) {
    throw new AccountantError(`delta must be in (0, 1), got ${delta}`);
  }
}

function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps <= 0) {
    throw new AccountantError(`steps must be a positive integer, got ${steps}`);
  }
}

function checkOrder(order: number): void {
  if (!Number.isFinite(order) || order <= 1) {
    throw new AccountantError(`RDP order alpha must be a finite number > 1, got ${order}`);
  }
}

/** log A_α for integer α: the expectation expanded by the binomial theorem, term by term. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logBinom = 0; // log C(α, 0)
  let total = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    total = logAdd(total, term);
  }
  return total;
}

/**
 * log A_α for fractional α: the integral is split at z0 = σ² log(1/q − 1) + ½ and each half
 * expanded with the generalised binomial series; the coefficients C(α, i) change sign once
 * i > α, so positive and negative terms are accumulated separately per half. The series is
 * stopped once both halves' terms fall below e^-30 (A_α ≥ 1, so that is far below precision).
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  let lower = -Infinity; // Σ over the part of the integral below z0
  let upper = -Infinity; // and above it
  let logAbsBinom = 0; // log |C(α, 0)|
  let binomSign = 1;
  for (let i = 0; i < 100000; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logAbsBinom += Math.log(Math.abs(factor));
      if (factor < 0) binomSign = -binomSign;
    }
    const j = alpha - i;
    const termLower =
      logAbsBinom + i * logQ + j * log1mQ + (i * i - i) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const termUpper =
      logAbsBinom + j * logQ + i * log1mQ + (j * j - j) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    if (binomSign > 0) {
      lower = logAdd(lower, termLower);
      upper = logAdd(upper, termUpper);
    } else {
      lower = logSub(lower, termLower);
      upper = logSub(upper, termUpper);
    }
    if (Math.max(termLower, termUpper) < -30) break;
  }
  return logAdd(lower, upper);
}

/** RDP of one step of the Poisson-subsampled Gaussian mechanism at order α. */
export function rdpSubsampledGaussian(sampleRate: number, noiseMultiplier: number, order: number): number {
  checkSampleRate(sampleRate);
  checkNoiseMultiplier(noiseMultiplier);
  checkOrder(order);
  const sigma = noiseMultiplier;
  // Without subsampling it is the Gaussian mechanism itself: α / (2σ²) exactly.
  if (sampleRate === 1) return order / (2 * sigma * sigma);
  const logA = Number.isInteger(order) ? logAInteger(sampleRate, sigma, order) : logAFractional(sampleRate, sigma, order);
  return logA / (order - 1);
}

/** Total RDP after `steps` steps at each order (composition adds). */
export function computeRdp(sampleRate: number, noiseMultiplier: number, steps: number, orders: readonly number[] = RDP_ORDERS): number[] {
  checkSteps(steps);
  return orders.map((a) => rdpSubsampledGaussian(sampleRate, noiseMultiplier, a) * steps);
}

/** ε = min over α of rdp(α) + log1p(−1/α) − (log δ + log α)/(α − 1), never below 0. */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number): EpsilonResult {
  checkDelta(delta);
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new AccountantError(`need one RDP value per order: ${orders.length} orders, ${rdp.length} values`);
  }
  let best: EpsilonResult = { epsilon: Infinity, order: NaN };
  orders.forEach((a, k) => {
    checkOrder(a);
    const r = rdp[k];
    if (!Number.isFinite(r)) return; // an order whose RDP overflowed cannot be the best one
    const eps = r + Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  if (best.epsilon < 0) best = { epsilon: 0, order: best.order };
  return best;
}

/** (ε, δ) of `steps` steps with noise multiplier z and Poisson sampling rate q. */
export function computeEpsilon(noiseMultiplier: number, sampleRate: number, steps: number, delta: number): EpsilonResult {
  checkNoiseMultiplier(noiseMultiplier);
  checkSampleRate(sampleRate);
  checkSteps(steps);
  checkDelta(delta);
  return epsilonFromRdp(RDP_ORDERS, computeRdp(sampleRate, noiseMultiplier, steps), delta);
}

const Z_MAX = 1e6;

/**
 * The smallest noise multiplier (to relative precision 1e-6) whose ε does not exceed the target,
 * by bisection: ε is decreasing in z. The returned z always meets the target.
 */
export function noiseMultiplierForEpsilon(epsilon: number, sampleRate: number, steps: number, delta: number): number {
  if (!Number.isFinite(epsilon) || epsilon <= 0) {
    throw new AccountantError(`target epsilon must be a finite number > 0, got ${epsilon}`);
  }
  checkSampleRate(sampleRate);
  checkSteps(steps);
  checkDelta(delta);
  const eps = (z: number): number => computeEpsilon(z, sampleRate, steps, delta).epsilon;
  // With α capped at 1024 even infinite noise leaves ε ≈ (log(1/δ) − log 1024)/1023 > 0.
  const floor = eps(Z_MAX);
  if (floor > epsilon) {
    throw new AccountantError(
      `target epsilon ${epsilon} is unreachable with these orders (even z = ${Z_MAX} gives epsilon ${floor.toPrecision(3)} at q = ${sampleRate}, ${steps} steps, delta = ${delta})`,
    );
  }
  let hi = 1;
  while (eps(hi) > epsilon) hi *= 2;
  let lo = hi / 2;
  if (eps(lo) <= epsilon) {
    // Walk down until the lower end violates the target.
    while (lo > 1e-6 && eps(lo) <= epsilon) lo /= 2;
    hi = lo * 2;
  }
  while ((hi - lo) / hi > 1e-6) {
    const mid = (lo + hi) / 2;
    if (eps(mid) <= epsilon) hi = mid;
    else lo = mid;
  }
  return hi;
}
