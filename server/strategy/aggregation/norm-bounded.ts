/**
 * `norm-bounded` (Sun et al. 2019, "Can you really backdoor FL?"): each update is scaled to
 * Δ·min(1, M/‖Δ‖₂), then the example-weighted mean as FedAvg. Without the paper's optional "weak
 * DP" noise (use defenses.dp for clipping with calibrated noise).
 */
import { z } from 'zod';
import { weightedMean } from '../../coordinator/aggregate';
import { l2Norm } from './vectors';
import { defineRule, type AggregationRule, type UpdateAdjustment } from './types';

export const normBoundedSchema = z.strictObject({
  name: z.literal('norm-bounded'),
  /** M: the largest L2 norm an update keeps. */
  normBound: z.number().positive(),
});

function normBoundedRule(settings: z.infer<typeof normBoundedSchema>): AggregationRule {
  const bound = settings.normBound;
  return (updates) => {
    const adjustments: UpdateAdjustment[] = [];
    const bounded = updates.map((u) => {
      const norm = l2Norm(u.update);
      if (norm <= bound) return u;
      adjustments.push({
        client: u.clientId,
        action: 'clipped',
        reason: `L2 norm ${norm.toPrecision(4)} > normBound ${bound}: scaled down to ${bound}`,
      });
      const scale = bound / norm;
      return { ...u, update: u.update.map((v) => v * scale) };
    });
    return { mean: weightedMean(bounded), adjustments };
  };
}

export const normBounded = defineRule(normBoundedSchema, normBoundedRule);
