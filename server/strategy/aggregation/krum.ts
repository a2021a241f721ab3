/**
 * `krum` (Blanchard et al., NeurIPS 2017): score each update by the sum of squared L2 distances to
 * its n − f − 2 nearest others; keep the lowest score (Krum) or average the m lowest (Multi-Krum),
 * example-weighted as Flower's MultiKrum does. The guarantee needs n > 2f + 2; with fewer updates
 * (drop-outs) the rule still runs, on max(1, n − f − 2) neighbours, and says so.
 */
import { z } from 'zod';
import { weightedMean } from '../../coordinator/aggregate';
import { squaredDistance } from './vectors';
import { defineRule, type AggregationRule, type UpdateAdjustment } from './types';

export const krumSchema = z.strictObject({
  name: z.literal('krum'),
  /** f: how many Byzantine clients to tolerate. */
  f: z.number().int().nonnegative().default(0),
  /** m: how many of the best-scored updates to average (1 = Krum). */
  m: z.number().int().positive().default(1),
});

export type KrumSettings = z.infer<typeof krumSchema>;

/** Each update's Krum score (sum of squared distances to its `neighbours` nearest others). */
export function krumScores(vectors: readonly Float32Array[], neighbours: number): number[] {
  const n = vectors.length;
  const dist = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dist[i][j] = dist[j][i] = squaredDistance(vectors[i], vectors[j]);
  return dist.map((row, i) => {
    const others = Array.from(row)
      .filter((_, j) => j !== i)
      .sort((a, b) => a - b);
    return others.slice(0, neighbours).reduce((a, b) => a + b, 0);
  });
}

function krumRule(settings: KrumSettings): AggregationRule {
  return (updates) => {
    const n = updates.length;
    const neighbours = Math.max(1, n - settings.f - 2);
    const scores = krumScores(
      updates.map((u) => u.update),
      Math.min(neighbours, n - 1),
    );
    // Ties (and Infinity) resolve by selected order, so results do not depend on arrival.
    const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const keep = new Set(order.slice(0, Math.min(settings.m, n)).map(([, i]) => i));
    const weak = n > 2 * settings.f + 2 ? '' : ` (only ${n} updates for f = ${settings.f}: Krum's guarantee needs n > 2f + 2)`;
    const adjustments: UpdateAdjustment[] = updates.flatMap((u, i) =>
      keep.has(i)
        ? []
        : [
            {
              client: u.clientId,
              action: 'rejected' as const,
              reason: `krum score ${scores[i].toPrecision(4)} not among the ${settings.m} lowest${weak}`,
            },
          ],
    );
    return { mean: weightedMean(updates.filter((_, i) => keep.has(i))), adjustments };
  };
}

export const krum = defineRule(krumSchema, krumRule);
