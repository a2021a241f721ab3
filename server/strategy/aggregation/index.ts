/**
 * The aggregation rules by name (`federation.aggregation`), each with its own settings schema; the
 * scenario schema is composed from this registry. A scenario names a rule by string ("median") or
 * by object with its settings ({ "name": "krum", "f": 1 }). Adding a rule: one file, one line here.
 */
import { z } from 'zod';
import { krum } from './krum';
import { mean } from './mean';
import { median } from './median';
import { normBounded } from './norm-bounded';
import { trimmedMean } from './trimmed-mean';
import type { AggregationRule } from './types';

/** The registry: one line per rule. */
const RULES = [mean, normBounded, median, trimmedMean, krum] as const;

type SchemasOf<T extends readonly { schema: unknown }[]> = { -readonly [K in keyof T]: T[K] extends { schema: infer S } ? S : never };

export const aggregationSchema = z
  .preprocess(
    (v) => (typeof v === 'string' ? { name: v } : v),
    z.discriminatedUnion('name', RULES.map((r) => r.schema) as unknown as SchemasOf<typeof RULES>),
  )
  .default({ name: 'mean' });

export type AggregationConfig = z.infer<typeof aggregationSchema>;
export type AggregationName = AggregationConfig['name'];

export function aggregationRule(config: AggregationConfig): AggregationRule {
  const entry = RULES.find((r) => r.schema.shape.name.value === config.name);
  if (!entry) throw new Error(`federation.aggregation: no rule named "${config.name}"`);
  return (entry.create as (settings: AggregationConfig) => AggregationRule)(config);
}

/** Human-readable rule with its settings, e.g. "krum(f=1, m=1)". */
export function describeAggregation(config: AggregationConfig): string {
  const settings = Object.entries(config).filter(([k]) => k !== 'name');
  return settings.length ? `${config.name}(${settings.map(([k, v]) => `${k}=${String(v)}`).join(', ')})` : config.name;
}

export { krumScores } from './krum';
export type { AggregationRule, Combined, UpdateAdjustment } from './types';

/** Cross-field rules of `federation.aggregation`; one line per problem. */
export function aggregationProblems(s: {
  federation: { aggregation: AggregationConfig; clientsPerRound: number };
  defenses: { dp?: unknown; secureAggregation?: unknown };
}): string[] {
  const a = s.federation.aggregation;
  if (a.name === 'mean') return [];
  const problems: string[] = [];
  if (s.defenses.dp)
    problems.push(
      `federation.aggregation: "${a.name}" cannot be combined with defenses.dp (DP-FedAvg has its own clipped mean); use "mean"`,
    );
  if (s.defenses.secureAggregation)
    problems.push(
      `federation.aggregation: "${a.name}" needs the individual updates, which defenses.secureAggregation hides from the server; use "mean"`,
    );
  const n = s.federation.clientsPerRound;
  if (a.name === 'krum' && n <= 2 * a.f + 2)
    problems.push(`federation.aggregation: krum with f = ${a.f} needs federation.clientsPerRound > 2f + 2 = ${2 * a.f + 2}, got ${n}`);
  if (a.name === 'krum' && a.m > n) problems.push(`federation.aggregation.m (${a.m}) exceeds federation.clientsPerRound (${n})`);
  return problems;
}
