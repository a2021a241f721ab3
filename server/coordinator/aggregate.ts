/**
 * Aggregation arithmetic: the example-weighted mean of the round's updates, and how a mean moves the
 * global model. The strategies (server/strategy) use it:
 *  - fedsgd (updates are gradients):  θ ← θ − lr · Σ nᵢ gᵢ / Σ nᵢ
 *  - fedavg (updates are θ_local − θ): θ ← θ + Σ nᵢ Δᵢ / Σ nᵢ
 * Server-side DP-FedAvg replaces the mean by a clip-sum-noise one (server/strategy/dp-fedavg.ts).
 */

export interface WeightedUpdate {
  clientId: string;
  update: Float32Array;
  numExamples: number;
}

/** Σ nᵢ uᵢ / Σ nᵢ, accumulated in float64. */
export function weightedMean(updates: readonly WeightedUpdate[]): Float32Array {
  if (updates.length === 0) throw new Error('weightedMean: no updates');
  const n = updates[0].update.length;
  const acc = new Float64Array(n);
  let total = 0;
  for (const u of updates) {
    if (u.update.length !== n) throw new Error(`weightedMean: ${u.clientId} sent ${u.update.length} values, expected ${n}`);
    total += u.numExamples;
    const w = u.numExamples;
    for (let i = 0; i < n; i++) acc[i] += w * u.update[i];
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = acc[i] / total;
  return out;
}

/** The next global parameters from this round's mean update. */
export function applyAggregate(
  global: Float32Array,
  mean: Float32Array,
  algorithm: 'fedsgd' | 'fedavg',
  learningRate: number,
): Float32Array {
  const out = new Float32Array(global.length);
  if (algorithm === 'fedsgd') for (let i = 0; i < out.length; i++) out[i] = global[i] - learningRate * mean[i];
  else for (let i = 0; i < out.length; i++) out[i] = global[i] + mean[i];
  return out;
}
