/**
 * Datasets by scenario `data.dataset`. Adding one: a file in shared/data/datasets/ exporting its
 * `datasetEntry(name, summary, fields, { problems, load })` and one line here; the scenario's
 * `data` schema is composed from these entries (shared/data/schema.ts).
 */
import { cifar10Dataset } from './datasets/cifar10';
import { cifar100Dataset } from './datasets/cifar100';
import { csvDataset } from './datasets/csv';
import { imageFolderDataset } from './datasets/image-folder';
import { idxDataset } from './datasets/idx';
import { mnistDataset } from './datasets/mnist';
import { noneDataset } from './datasets/none';
import { syntheticDataset } from './datasets/synthetic';

/** mnist first (the default); the others in the order their fields appear in a resolved scenario. */
export const DATASET_ENTRIES = [
  mnistDataset,
  idxDataset,
  cifar10Dataset,
  syntheticDataset,
  cifar100Dataset,
  imageFolderDataset,
  csvDataset,
  noneDataset,
] as const;

export type DatasetName = (typeof DATASET_ENTRIES)[number]['name'];
