/**
 * The scenario's `data` section (docs/scenarios.md): which dataset, how it is split among clients.
 * Composed from the dataset registry (shared/data/registry.ts): the common split/partition fields,
 * then every registered dataset's own fields, in one flat object as scenarios have always written it.
 */
import { z } from 'zod';
import type { DatasetEntry } from './entry';
import { DATASET_ENTRIES, type DatasetName } from './registry';
import { channelStats, normalizeSchema } from './normalize';
import { NO_SERVER_DATA } from './datasets/none';

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
  /** The model's input normalisation, {mean, std} per channel; data, attacks and metrics stay in pixel space. */
  normalize: normalizeSchema.optional(),
  ...mergedFields(),
});

export type DataConfig = z.infer<typeof dataSchema>;

/** The registry entry `data.dataset` names. */
export function datasetEntryFor(config: DataConfig): DatasetEntry {
  const entry = DATASET_ENTRIES.find((e) => e.name === config.dataset) as DatasetEntry | undefined;
  if (!entry) throw new Error(`data.dataset: unknown dataset "${config.dataset}"; known: ${DATASET_NAMES.join(', ')}`);
  return entry;
}

/** Channels of the images the config names, when known before loading (else the check waits for the data). */
function knownChannels(d: DataConfig): number | undefined {
  if (d.dataset === 'mnist' || d.dataset === 'csv') return 1;
  if (d.dataset === 'cifar10' || d.dataset === 'cifar100') return 3;
  if (d.dataset === 'synthetic' || d.dataset === NO_SERVER_DATA) return d.shape[2];
  if (d.dataset === 'image-folder') return d.imageShape?.[2];
  return undefined;
}

function normalizeProblems(d: DataConfig): string[] {
  const channels = knownChannels(d);
  if (!d.normalize || channels === undefined) return [];
  try {
    channelStats(d.normalize, channels);
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

function locationProblems(d: DataConfig): string[] {
  if (d.dataset !== NO_SERVER_DATA || d.location === 'clients') return [];
  return [
    'data.dataset: "none" (no data on the server) needs data.location "clients": the clients bring every example (fedleak client --data)',
  ];
}

/** Cross-field rules zod's shape cannot say (the chosen dataset's); one line per problem, empty when fine. */
export function dataConfigProblems(d: DataConfig): string[] {
  return [...locationProblems(d), ...normalizeProblems(d), ...datasetEntryFor(d).problems(d)];
}
