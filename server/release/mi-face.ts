/**
 * MI-FACE (Fredrikson, Jha, Ristenpart, CCS 2015), one inversion per target class:
 *
 *   c(x) = 1 − p̃_label(x) + AuxTerm(x),  x₀ = 0
 *   for i = 1..α:  x_i = PROCESS(x_{i−1} − λ ∇c(x_{i−1}))
 *                  stop if c(x_i) ≥ max(c(x_{i−1}), …, c(x_{i−β})) or c(x_i) ≤ γ
 *   return the lowest-cost x_i and its cost.
 *
 * The core only needs c and ∇c of the first term from a `ConfidenceOracle`: exact gradients for
 * the white-box attacker, finite-difference estimates from API queries for the black-box one.
 * AuxTerm is the attacker's own side information, computed here without queries.
 */
import { ApiRefused } from './client';
import type { MiFaceConfig } from './schema';

export interface OracleAnswer {
  /** 1 − p̃_label(x) as the oracle sees it (masked scores for a black-box oracle). */
  cost: number;
  /** ∇ of that cost with respect to x (exact or estimated). */
  gradient: Float32Array;
}

export interface ConfidenceOracle {
  evaluate(x: Float32Array, label: number): Promise<OracleAnswer>;
  /** Inputs sent to the model so far (0 for white-box access). */
  readonly queries: number;
}

export interface InversionResult {
  label: number;
  image: Float32Array;
  cost: number;
  iterations: number;
  queries: number;
  stoppedBy: 'threshold' | 'patience' | 'iterations' | 'query-budget' | 'blocked';
}

export type MiFaceParams = Pick<
  MiFaceConfig,
  'iterations' | 'patience' | 'costThreshold' | 'stepSize' | 'process' | 'auxWeight' | 'maxQueries'
>;

function auxTerm(x: Float32Array, weight: number): number {
  if (weight === 0) return 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return (weight * s) / x.length;
}

function descend(x: Float32Array, gradient: Float32Array, p: MiFaceParams): Float32Array {
  const next = new Float32Array(x.length);
  const auxScale = (2 * p.auxWeight) / x.length;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] - p.stepSize * (gradient[i] + auxScale * x[i]);
    next[i] = p.process === 'clip' ? Math.min(1, Math.max(0, v)) : v;
  }
  return next;
}

/** Inverts one class. `size` is the flat input size. */
export async function invertClass(oracle: ConfidenceOracle, label: number, size: number, p: MiFaceParams): Promise<InversionResult> {
  const startQueries = oracle.queries;
  let x: Float32Array = new Float32Array(size);
  let best = { cost: Infinity, image: x, iteration: 0 };
  const costs: number[] = [];
  let stoppedBy: InversionResult['stoppedBy'] = 'iterations';
  for (let i = 0; i < p.iterations; i++) {
    if (p.maxQueries > 0 && oracle.queries - startQueries >= p.maxQueries) {
      stoppedBy = 'query-budget';
      break;
    }
    let answer: Awaited<ReturnType<ConfidenceOracle['evaluate']>>;
    try {
      answer = await oracle.evaluate(x, label);
    } catch (err) {
      // A monitor in block mode ends the attack: keep the best image so far (blank when none was answered).
      if (err instanceof ApiRefused && err.status === 403) {
        stoppedBy = 'blocked';
        break;
      }
      throw err;
    }
    const cost = answer.cost + auxTerm(x, p.auxWeight);
    if (cost < best.cost) best = { cost, image: x, iteration: i };
    costs.push(cost);
    if (cost <= p.costThreshold) {
      stoppedBy = 'threshold';
      break;
    }
    if (costs.length > p.patience && cost >= Math.max(...costs.slice(-p.patience - 1, -1))) {
      stoppedBy = 'patience';
      break;
    }
    x = descend(x, answer.gradient, p);
  }
  return {
    label,
    image: best.image,
    cost: Number.isFinite(best.cost) ? best.cost : 1,
    iterations: costs.length,
    queries: oracle.queries - startQueries,
    stoppedBy,
  };
}

/** One inversion per class, in order. */
export async function miFace(
  oracle: ConfidenceOracle,
  labels: readonly number[],
  size: number,
  p: MiFaceParams,
  onClass?: (r: InversionResult) => void,
): Promise<InversionResult[]> {
  const results: InversionResult[] = [];
  for (const label of labels) {
    const r = await invertClass(oracle, label, size, p);
    onClass?.(r);
    results.push(r);
  }
  return results;
}
