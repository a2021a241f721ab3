/**
 * `trimmed-mean` (Yin et al., ICML 2018): per coordinate, drop the ⌊β·n⌋ largest and ⌊β·n⌋ smallest
 * values and average the rest, unweighted. β must be at least the fraction of Byzantine clients and
 * below ½; Flower's FedTrimmedAvg default β = 0.2.
 */
import { z } from 'zod';
import { coordinateWise } from './vectors';
import { defineRule, type AggregationRule } from './types';

export const trimmedMeanSchema = z.strictObject({
  name: z.literal('trimmed-mean'),
  beta: z.number().min(0).lt(0.5).default(0.2),
});

function trimmedMeanRule(settings: z.infer<typeof trimmedMeanSchema>): AggregationRule {
  return (updates) => {
    const trim = Math.floor(settings.beta * updates.length);
    return {
      mean: coordinateWise(updates, (s) => {
        let sum = 0;
        for (let j = trim; j < s.length - trim; j++) sum += s[j];
        return sum / (s.length - 2 * trim);
      }),
      adjustments: [],
    };
  };
}

export const trimmedMean = defineRule(trimmedMeanSchema, trimmedMeanRule);
