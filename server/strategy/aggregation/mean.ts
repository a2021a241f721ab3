/** `mean`: FedAvg's example-weighted mean Σ nᵢ uᵢ / Σ nᵢ (the default; no robustness). */
import { z } from 'zod';
import { weightedMean } from '../../coordinator/aggregate';
import { defineRule } from './types';

export const meanSchema = z.strictObject({ name: z.literal('mean') });

export const mean = defineRule(meanSchema, () => (updates) => ({ mean: weightedMean(updates), adjustments: [] }));
