/**
 * `"dataset": "csv"`: a table with a header row, one example per row. The `label` column names
 * the class; the feature columns (all others, or `features` in that order) become one example of
 * shape [1, F, 1]. Numeric columns are standardised to mean 0 and standard deviation 1 over the
 * whole file (recorded in `preprocessing`); columns listed in `categorical` become one-hot columns,
 * one per distinct value, in sorted order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseCsv, type CsvRecord } from './csv-parse';
import { DataError } from './errors';
import type { Dataset, Preprocessing } from './types';

export const csvSchema = z.strictObject({
  /** The CSV file (header row required). */
  path: z.string().min(1),
  /** The column holding each row's class. */
  label: z.string().min(1),
  /** Feature columns, in this order; default every column but the label, in file order. */
  features: z.array(z.string().min(1)).min(1).optional(),
  /** Feature columns whose values are categories (one-hot encoded) rather than numbers. */
  categorical: z.array(z.string().min(1)).default([]),
  /** The field separator: "," by default; ";" or "\t" (tab-separated files) also common. */
  delimiter: z.string().length(1).default(','),
  /** Standardise numeric features to mean 0, standard deviation 1 (population, over the whole file). */
  standardize: z.boolean().default(true),
});
export type CsvConfig = z.input<typeof csvSchema>;

/** One-hot columns per categorical column at most: more is almost always an identifier column by mistake. */
export const MAX_CATEGORIES = 1000;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readTable(file: string, delimiter: string): { header: string[]; rows: CsvRecord[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${file}: file not found (looked at ${path.resolve(file)})`);
    throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
  }
  const [head, ...rows] = parseCsv(file, text, delimiter);
  if (!head) throw new DataError(`${file}: empty CSV file; expected a header row and at least one data row`);
  const header = head.fields.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new DataError(`${file}: line ${head.line}: column "${name}" appears twice in the header`);
    seen.add(name);
  }
  if (rows.length === 0) throw new DataError(`${file}: has a header but no data rows`);
  for (const row of rows) {
    if (row.fields.length !== header.length) {
      throw new DataError(`${file}: line ${row.line}: ${row.fields.length} fields, but the header has ${header.length} columns`);
    }
  }
  return { header, rows };
}

function columnIndex(file: string, header: string[], name: string, role: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new DataError(`${file}: unknown ${role} column "${name}"; the header has: ${header.join(', ')}`);
  return i;
}

/** Distinct values, numerically sorted when all are numbers (so "2" < "10"), else by code point. */
function sortedValues(values: string[]): string[] {
  const distinct = [...new Set(values)];
  if (distinct.every((v) => NUMBER.test(v))) return distinct.sort((a, b) => Number(a) - Number(b) || byCodePoint(a, b));
  return distinct.sort(byCodePoint);
}

interface Column {
  name: string;
  /** Output values per row: one for a numeric column, one per category for a categorical one. */
  names: string[];
  values: Float64Array[];
  numeric: boolean;
}

function numericColumn(file: string, rows: CsvRecord[], index: number, name: string): Column {
  const values = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    const text = row.fields[index].trim();
    if (!NUMBER.test(text)) {
      const shown = text === '' ? 'an empty value' : `"${text}"`;
      throw new DataError(
        `${file}: line ${row.line}, column "${name}" (${index + 1}): ${shown} is not a number ` +
          '(list the column in data.categorical if its values are categories)',
      );
    }
    values[r] = Number(text);
  });
  return { name, names: [name], values: [values], numeric: true };
}

function categoricalColumn(file: string, rows: CsvRecord[], index: number, name: string): Column {
  const cells = rows.map((row) => row.fields[index].trim());
  const categories = sortedValues(cells);
  if (categories.length > MAX_CATEGORIES) {
    throw new DataError(
      `${file}: categorical column "${name}" has ${categories.length} distinct values; at most ${MAX_CATEGORIES} are one-hot encoded ` +
        '(an identifier column? leave it out of data.features)',
    );
  }
  const values = categories.map((category) => Float64Array.from(cells, (cell) => (cell === category ? 1 : 0)));
  return { name, names: categories.map((c) => `${name}=${c}`), values, numeric: false };
}

function checkConfig(file: string, header: string[], config: z.output<typeof csvSchema>): string[] {
  columnIndex(file, header, config.label, 'label');
  const features = config.features ?? header.filter((name) => name !== config.label);
  if (features.length === 0) throw new DataError(`${file}: no feature columns besides the label "${config.label}"`);
  for (const name of features) {
    columnIndex(file, header, name, 'feature');
    if (name === config.label) throw new DataError(`${file}: column "${name}" is the label; it cannot also be a feature`);
  }
  for (const name of config.categorical) {
    if (!features.includes(name)) throw new DataError(`${file}: categorical column "${name}" is not among the feature columns`);
  }
  return features;
}

/** Population mean and standard deviation; a constant column gets std 1 so it becomes all zeros. */
function standardize(values: Float64Array): { mean: number; std: number } {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / values.length) || 1;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - mean) / std;
  return { mean, std };
}

export function loadCsv(input: CsvConfig): Dataset {
  const config = csvSchema.parse(input);
  const file = config.path;
  const { header, rows } = readTable(file, config.delimiter);
  const features = checkConfig(file, header, config);
  const columns = features.map((name) => {
    const index = header.indexOf(name);
    return config.categorical.includes(name) ? categoricalColumn(file, rows, index, name) : numericColumn(file, rows, index, name);
  });
  const preprocessing: Preprocessing = { features: columns.flatMap((c) => c.names), standardized: [] };
  if (config.standardize) {
    for (const column of columns.filter((c) => c.numeric)) {
      preprocessing.standardized.push({ feature: column.name, ...standardize(column.values[0]) });
    }
  }
  const width = preprocessing.features.length;
  const planes = columns.flatMap((c) => c.values);
  const images = new Float32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) for (let f = 0; f < width; f++) images[r * width + f] = planes[f][r];

  const labelIndex = header.indexOf(config.label);
  const labelCells = rows.map((row) => row.fields[labelIndex].trim());
  const emptyLabel = labelCells.indexOf('');
  if (emptyLabel >= 0) throw new DataError(`${file}: line ${rows[emptyLabel].line}: empty value in the label column "${config.label}"`);
  const classNames = sortedValues(labelCells);
  const classOf = new Map(classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(labelCells, (cell) => classOf.get(cell) ?? -1);
  return { name: 'csv', shape: [1, width, 1], numClasses: classNames.length, images, labels, classNames, preprocessing };
}
