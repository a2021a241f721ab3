/**
 * Aggregation rules: how a round's (capped) updates become the one mean update the strategy steps
 * by. `mean` is FedAvg's example-weighted mean; the robust rules (Yin et al. 2018, Blanchard et al.
 * 2017, Sun et al. 2019) bound what one Byzantine client can do. Each rule says what it did to
 * individual updates (clipped, left out) so the round record can show it.
 */
import type { z } from 'zod';
import type { AcceptedUpdate } from '../types';

/** Something the server did to one client's update this round, with the reason. */
export interface UpdateAdjustment {
  client: string;
  action: 'examples-capped' | 'clipped' | 'rejected';
  reason: string;
}

export interface Combined {
  mean: Float32Array;
  adjustments: UpdateAdjustment[];
}

/** A rule: `updates` in selected order, at least one, all of the model's length. */
export type AggregationRule = (updates: readonly AcceptedUpdate[]) => Combined;

/** A rule's registry entry: its settings schema (with `name` as the discriminant) and its factory. */
export interface RuleEntry<Schema extends z.ZodObject<{ name: z.ZodLiteral<string> }>> {
  schema: Schema;
  create(settings: z.infer<Schema>): AggregationRule;
}

export function defineRule<Schema extends z.ZodObject<{ name: z.ZodLiteral<string> }>>(
  schema: Schema,
  create: (settings: z.infer<Schema>) => AggregationRule,
): RuleEntry<Schema> {
  return { schema, create };
}
