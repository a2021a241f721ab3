/**
 * One dataset config outside a scenario, e.g. a client's own data (`fedleak client --data x.json`):
 * `{"dataset": "csv", "path": "t.csv", "label": "y"}`, spelt exactly like a scenario's `data`
 * section but holding only the dataset's own fields. Validated and loaded by the dataset registry.
 */
import type { DatasetEntry } from './entry';
import { DataError } from './errors';
import { DATASET_ENTRIES } from './registry';
import type { Dataset } from './types';

function entryNamed(name: unknown): DatasetEntry | undefined {
  return (DATASET_ENTRIES as readonly DatasetEntry[]).find((e) => e.name === name);
}

/** Loads `{dataset, …fields}`; `where` names the config's source in errors (e.g. the JSON file). */
export function loadDataFile(config: unknown, where: string): Dataset {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DataError(`${where}: expected an object such as {"dataset": "image-folder", "path": "photos"}`);
  }
  const name = (config as Record<string, unknown>).dataset;
  const entry = entryNamed(name);
  if (!entry) {
    throw new DataError(
      `${where}: unknown dataset ${JSON.stringify(name)}; expected one of ${DATASET_ENTRIES.map((e) => e.name).join(', ')}`,
    );
  }
  const parsed = entry.schema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'config'}: ${issue.message}`);
    throw new DataError(`${where}: ${problems.join('; ')}`);
  }
  const problems = entry.problems(parsed.data);
  if (problems.length > 0) throw new DataError(`${where}: ${problems.join('; ')}`);
  // The seed only matters for synthetic data; a client's own data has no scenario seed.
  return entry.load(parsed.data, 0);
}
