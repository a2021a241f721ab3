/** `median` (Yin et al., ICML 2018): the coordinate-wise median of the updates, unweighted. */
import { z } from 'zod';
import { coordinateWise } from './vectors';
import { defineRule } from './types';

export const medianSchema = z.strictObject({ name: z.literal('median') });

const medianOf = (sorted: Float64Array): number => {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const median = defineRule(medianSchema, () => (updates) => ({ mean: coordinateWise(updates, medianOf), adjustments: [] }));
