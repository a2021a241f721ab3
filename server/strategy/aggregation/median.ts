/** `median` (Yin et al., ICML 2018): the coordinate-wise median of the updates, unweighted. */
import { z } from 'zod';
import { coordinateWise } from './vectors';
import type { AggregationRule } from './types';

export const medianSchema = z.strictObject({ name: z.literal('median') });

export function medianRule(): AggregationRule {
  return (updates) => ({
    mean: coordinateWise(updates, (s) => {
      const mid = s.length >> 1;
      return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }),
    adjustments: [],
  });
}
