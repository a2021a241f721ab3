import { z } from 'zod';
import { loadCsv } from '../csv';
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { labelField, pathField } from '../fields';

// Optional without defaults, so other datasets' resolved scenarios do not gain csv settings.
export const csvDataset = datasetEntry(
  'csv',
  'a table with a header row: one example per row, a label column (docs/data.md)',
  {
    path: pathField,
    label: labelField,
    /** Feature columns in this order; default every column but the label. */
    features: z.array(z.string().min(1)).min(1).optional(),
    /** Feature columns to one-hot encode; default none. */
    categorical: z.array(z.string().min(1)).optional(),
    /** Standardise numeric features (mean 0, std 1 over the file); default true. */
    standardize: z.boolean().optional(),
    /** Field separator, one character; default ",". */
    delimiter: z.string().length(1).optional(),
  },
  {
    problems(c) {
      const problems: string[] = [];
      if (!c.path) problems.push('data.path: the CSV file is required when data.dataset is "csv"');
      if (!c.label) problems.push('data.label: the label column is required when data.dataset is "csv"');
      return problems;
    },
    load(c) {
      if (!c.path || !c.label) throw new DataError('data.dataset is "csv" but data.path and data.label are not both set');
      return loadCsv({
        path: c.path,
        label: c.label,
        features: c.features,
        categorical: c.categorical,
        standardize: c.standardize,
        delimiter: c.delimiter,
      });
    },
  },
);
