/**
 * The loaders of users' own files, each with the zod schema of its fields, keyed by the
 * `dataset` name a config uses. `loadDataFile` loads one config ({"dataset": "csv", …}); clients
 * use it for the data they hold themselves (client/local-data.ts).
 */
import { z } from 'zod';
import { cifar100Schema, loadCifar100 } from './cifar100';
import { loadCifar10 } from './cifar10';
import { csvSchema, loadCsv } from './csv';
import { DataError } from './errors';
import { idxSchema, loadIdxDataset } from './idx';
import { imageFolderSchema, loadImageFolder } from './image-folder';
import type { Dataset } from './types';

export const cifar10Schema = z.strictObject({
  /** Binary batch files (data_batch_*.bin), concatenated in this order. */
  files: z.array(z.string().min(1)).min(1),
});

interface FileLoader<S extends z.ZodType> {
  schema: S;
  load(config: z.output<S>): Dataset;
}

function entry<S extends z.ZodType>(schema: S, load: (config: z.output<S>) => Dataset): FileLoader<S> {
  return { schema, load };
}

export const fileLoaders = {
  'image-folder': entry(imageFolderSchema, loadImageFolder),
  csv: entry(csvSchema, loadCsv),
  idx: entry(idxSchema, loadIdxDataset),
  cifar10: entry(cifar10Schema, (c) => loadCifar10(c.files)),
  cifar100: entry(cifar100Schema, loadCifar100),
} as const;

export type FileDatasetName = keyof typeof fileLoaders;

function isFileDataset(name: unknown): name is FileDatasetName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(fileLoaders, name);
}

/** Loads `{dataset, …fields}`; `where` names the config's source in errors (e.g. the JSON file). */
export function loadDataFile(config: unknown, where: string): Dataset {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DataError(`${where}: expected an object such as {"dataset": "image-folder", "path": "photos"}`);
  }
  const { dataset, ...fields } = config as Record<string, unknown>;
  if (!isFileDataset(dataset)) {
    throw new DataError(
      `${where}: dataset ${JSON.stringify(dataset)} is not a file loader; expected one of ${Object.keys(fileLoaders).join(', ')}`,
    );
  }
  const loader: FileLoader<z.ZodType> = fileLoaders[dataset];
  const parsed = loader.schema.safeParse(fields);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : dataset}: ${issue.message}`);
    throw new DataError(`${where}: ${problems.join('; ')}`);
  }
  return loader.load(parsed.data);
}
