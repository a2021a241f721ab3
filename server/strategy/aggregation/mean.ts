/** `mean`: FedAvg's example-weighted mean Σ nᵢ uᵢ / Σ nᵢ (the default; no robustness). */
import { z } from 'zod';
import { weightedMean } from '../../coordinator/aggregate';
import type { AggregationRule } from './types';

export const meanSchema = z.strictObject({ name: z.literal('mean') });

export function meanRule(): AggregationRule {
  return (updates) => ({ mean: weightedMean(updates), adjustments: [] });
}
