/**
 * The sensitive column of a CSV dataset as the attribute-inference attacker sees it: which inputs of
 * an example hold it, the values it takes, each record's value, and its marginal prior over the
 * training records. Categorical columns are one-hot inputs (csv.ts); a numeric column is discretised
 * into the values it takes in the table, so it must take few.
 */
import { exampleSize, type Dataset } from '../../shared/data';
import type { DataConfig } from '../../shared/data/schema';

/** More distinct values than this and a numeric column is a measurement, not an attribute to guess. */
export const MAX_NUMERIC_VALUES = 20;

export interface SensitiveColumn {
  name: string;
  kind: 'categorical' | 'numeric';
  /** The column's first input in an example, and how many inputs it spans (1 for numeric). */
  offset: number;
  width: number;
  /** The values as written in the CSV, in candidate order. */
  values: string[];
  /** Numeric: each value as the model sees it (standardised when the loader standardised). */
  levels: number[];
}

/** Why a column cannot be the sensitive one; the caller prefixes the field (release.attacks[i].sensitive). */
export class SensitiveColumnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SensitiveColumnError';
  }
}

/** The source columns behind the model's inputs, for error messages. */
function sourceColumns(features: string[], categorical: string[]): string[] {
  return [...new Set(features.map((f) => categorical.find((c) => f.startsWith(`${c}=`)) ?? f))];
}

function categoricalColumn(name: string, features: string[]): SensitiveColumn {
  const prefix = `${name}=`;
  const indices = features.map((f, i) => (f.startsWith(prefix) ? i : -1)).filter((i) => i >= 0);
  const offset = indices[0];
  if (indices.length === 0 || indices.some((i, k) => i !== offset + k))
    throw new SensitiveColumnError(`cannot locate the one-hot inputs of column "${name}" (another column's name starts with "${prefix}"?)`);
  return {
    name,
    kind: 'categorical',
    offset,
    width: indices.length,
    values: indices.map((i) => features[i].slice(prefix.length)),
    levels: [],
  };
}

function numericColumn(name: string, offset: number, datasets: readonly Dataset[]): SensitiveColumn {
  const seen = new Set<number>();
  for (const d of datasets) {
    const size = exampleSize(d);
    for (let r = 0; r < d.labels.length; r++) seen.add(d.images[r * size + offset]);
  }
  if (seen.size > MAX_NUMERIC_VALUES)
    throw new SensitiveColumnError(
      `column "${name}" is numeric with ${seen.size} distinct values; attribute inference guesses among at most ${MAX_NUMERIC_VALUES} ` +
        '(list it in data.categorical if its values are categories, or pick a column with few values)',
    );
  const levels = [...seen].sort((a, b) => a - b);
  const scale = datasets[0].preprocessing?.standardized.find((s) => s.feature === name) ?? { mean: 0, std: 1 };
  const values = levels.map((l) => String(Number((l * scale.std + scale.mean).toPrecision(6))));
  return { name, kind: 'numeric', offset, width: 1, values, levels };
}

/** The column `name` of the loaded CSV (`datasets`: its splits, for a numeric column's values), or a SensitiveColumnError. */
export function sensitiveColumn(name: string, data: DataConfig, datasets: readonly Dataset[]): SensitiveColumn {
  if (data.dataset !== 'csv')
    throw new SensitiveColumnError(`attribute inference needs a table (data.dataset "csv"), not "${data.dataset}"`);
  if (name === data.label)
    throw new SensitiveColumnError(`"${name}" is the label column (the class the model predicts); pick one of the feature columns`);
  const features = datasets[0].preprocessing?.features;
  if (!features) throw new SensitiveColumnError('the dataset records no feature names (not loaded by the CSV loader?)');
  const categorical = data.categorical ?? [];
  if (categorical.includes(name)) return categoricalColumn(name, features);
  const offset = features.indexOf(name);
  if (offset < 0)
    throw new SensitiveColumnError(
      `column "${name}" is not an input of the model (not in the table, or left out of data.features); its input columns are ${sourceColumns(features, categorical).join(', ')}`,
    );
  return numericColumn(name, offset, datasets);
}

/** Record r's value index (nearest level for numeric; the hot input for one-hot). */
export function valueOf(column: SensitiveColumn, d: Dataset, r: number): number {
  const at = r * exampleSize(d) + column.offset;
  if (column.kind === 'categorical') {
    for (let v = 0; v < column.width; v++) if (d.images[at + v] === 1) return v;
    throw new Error(`record ${r}: no one-hot input of column "${column.name}" is set`);
  }
  const x = d.images[at];
  let best = 0;
  column.levels.forEach((l, v) => {
    if (Math.abs(l - x) < Math.abs(column.levels[best] - x)) best = v;
  });
  return best;
}

/** Writes value v into an example (one example's inputs, starting at 0). */
export function fillValue(column: SensitiveColumn, example: Float32Array, v: number): void {
  if (column.kind === 'numeric') {
    example[column.offset] = column.levels[v];
    return;
  }
  example.fill(0, column.offset, column.offset + column.width);
  example[column.offset + v] = 1;
}

/** The marginal prior: each value's frequency among the training records (Fredrikson's side information). */
export function marginalPrior(column: SensitiveColumn, train: Dataset): number[] {
  const counts = new Array<number>(column.values.length).fill(0);
  for (let r = 0; r < train.labels.length; r++) counts[valueOf(column, train, r)]++;
  return counts.map((c) => c / Math.max(1, train.labels.length));
}
