/**
 * DP-FedAvg at user level (McMahan et al. 2018, "Learning Differentially Private Recurrent
 * Language Models"): clip each client's update to L2 norm C, sum, add N(0, (zC)²) to every
 * coordinate, divide by the number of clients in the round. The mean is unweighted on purpose:
 * a weight (e.g. example count) would let one user move the sum by more than C and break the
 * sensitivity bound the noise is calibrated to; `weight` is accepted and ignored.
 *
 * The server is trusted to add the noise but curious: the clipped individual updates are
 * returned too, and that is what the observer attacks.
 */
import type { Rng } from '../../shared/random';
import type { DpConfig } from '../scenario/schema';

export interface WeightedUpdate {
  update: Float32Array;
  /** Ignored by DP-FedAvg (unweighted mean); kept for the aggregation seam's shape. */
  weight: number;
}

export interface DpAggregateReport {
  clients: number;
  /** How many updates were longer than C and scaled down. */
  clipped: number;
  /** L2 norm of each update before clipping, in input order. */
  normsBefore: number[];
  /** Std of the noise added to the sum (z·C); the mean's noise std is that / clients. */
  noiseStd: number;
}

export interface DpAggregateResult {
  /** The noised mean: the new global step. */
  aggregate: Float32Array;
  /** Each client's clipped update (what a curious server sees), in input order. */
  clippedUpdates: Float32Array[];
  report: DpAggregateReport;
}

/** Copy of `update` scaled to L2 norm ≤ c, and its norm before. */
export function clipToNorm(update: Float32Array, c: number): { clipped: Float32Array; normBefore: number } {
  let sumSq = 0;
  for (let i = 0; i < update.length; i++) sumSq += update[i] * update[i];
  const normBefore = Math.sqrt(sumSq);
  const clipped = update.slice();
  if (normBefore > c) {
    const scale = c / normBefore;
    for (let i = 0; i < clipped.length; i++) clipped[i] *= scale;
  }
  return { clipped, normBefore };
}

/**
 * `sampledClients` is the denominator: the clients selected this round (default: the updates
 * given). A fixed denominator keeps the sensitivity of the mean at C / sampledClients even when
 * some selected clients drop out.
 */
export function dpAggregate(
  updates: readonly WeightedUpdate[],
  config: DpConfig,
  rng: Rng,
  sampledClients = updates.length,
): DpAggregateResult {
  if (updates.length === 0) throw new Error('dpAggregate: no client updates to aggregate');
  if (!Number.isInteger(sampledClients) || sampledClients < updates.length) {
    throw new Error(`dpAggregate: sampledClients must be an integer ≥ the ${updates.length} updates, got ${sampledClients}`);
  }
  const size = updates[0].update.length;
  updates.forEach((u, i) => {
    if (u.update.length !== size) throw new Error(`dpAggregate: update ${i} has ${u.update.length} values, update 0 has ${size}`);
  });
  const c = config.clippingNorm;
  const clippedUpdates: Float32Array[] = [];
  const normsBefore: number[] = [];
  for (const { update } of updates) {
    const { clipped, normBefore } = clipToNorm(update, c);
    clippedUpdates.push(clipped);
    normsBefore.push(normBefore);
  }
  const aggregate = noisyMean(clippedUpdates, config, rng, sampledClients);
  return {
    aggregate,
    clippedUpdates,
    report: {
      clients: updates.length,
      clipped: normsBefore.filter((x) => x > c).length,
      normsBefore,
      noiseStd: config.noiseMultiplier * c,
    },
  };
}

/** (Σ clipped + N(0, (zC)²) per coordinate) / sampledClients, summed in float64; `clipped` already have norm ≤ C. */
export function noisyMean(clipped: readonly Float32Array[], config: DpConfig, rng: Rng, sampledClients: number): Float32Array {
  const size = clipped[0].length;
  const sum = new Float64Array(size);
  for (const u of clipped) for (let i = 0; i < size; i++) sum[i] += u[i];
  const noiseStd = config.noiseMultiplier * config.clippingNorm;
  const aggregate = new Float32Array(size);
  for (let i = 0; i < size; i++) aggregate[i] = (sum[i] + (noiseStd > 0 ? rng.normal(0, noiseStd) : 0)) / sampledClients;
  return aggregate;
}
