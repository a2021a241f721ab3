/**
 * The scenario's `data` section (docs/scenarios.md): which dataset, how it is split among clients.
 * Composed from the dataset registry (shared/data/registry.ts): the common split/partition fields,
 * then every registered dataset's own fields, in one flat object as scenarios have always written it.
 */
import { z } from 'zod';
import type { DatasetEntry } from './entry';
import { DATASET_ENTRIES, type DatasetName } from './registry';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type MergedFields = UnionToIntersection<(typeof DATASET_ENTRIES)[number]['fields']>;

function mergedFields(): MergedFields {
  const shape: Record<string, z.ZodType> = {};
  for (const entry of DATASET_ENTRIES) {
    for (const [field, schema] of Object.entries(entry.fields) as [string, z.ZodType][]) {
      if (shape[field] && shape[field] !== schema)
        throw new Error(`dataset registry: data.${field} is declared by two datasets; share one schema`);
      shape[field] = schema;
    }
  }
  return shape as MergedFields;
}

const DATASET_NAMES = DATASET_ENTRIES.map((e) => e.name) as [DatasetName, ...DatasetName[]];

export const dataSchema = z.strictObject({
  dataset: z.enum(DATASET_NAMES).default('mnist'),
  partition: z.enum(['iid', 'dirichlet', 'by-class']).default('iid'),
  /** Dirichlet concentration (partition "dirichlet"). */
  alpha: z.number().positive().default(0.5),
  /** Classes per client (partition "by-class"). */
  classesPerClient: positiveInt.default(2),
  /** Fraction of the examples held out as the server's test set. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
  /** Use only the first N examples (after a seeded shuffle); 0 = all. */
  limit: nonNegativeInt.default(0),
  /**
   * Where the training data lives: absent or "server", clients rebuild their shards from this section;
   * "clients", each client trains on its own files (`fedleak client --data`) and this section is the
   * server's evaluation data.
   */
  location: z.enum(['server', 'clients']).optional(),
  ...mergedFields(),
});

export type DataConfig = z.infer<typeof dataSchema>;

/** The registry entry `data.dataset` names. */
export function datasetEntryFor(config: DataConfig): DatasetEntry {
  const entry = DATASET_ENTRIES.find((e) => e.name === config.dataset) as DatasetEntry | undefined;
  if (!entry) throw new Error(`data.dataset: unknown dataset "${config.dataset}"; known: ${DATASET_NAMES.join(', ')}`);
  return entry;
}

/** Cross-field rules zod's shape cannot say (the chosen dataset's); one line per problem, empty when fine. */
export function dataConfigProblems(d: DataConfig): string[] {
  return datasetEntryFor(d).problems(d);
}
