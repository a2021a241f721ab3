import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { filesField } from '../fields';
import { loadCifar10 } from '../cifar10';

export const cifar10Dataset = datasetEntry(
  'cifar10',
  "a user's CIFAR-10 binary batch files",
  {
    /** Paths of binary batch files (data_batch_*.bin). */
    files: filesField,
  },
  {
    problems: (c) =>
      !c.files || c.files.length === 0
        ? ['data.files: at least one CIFAR-10 binary batch file is required when data.dataset is "cifar10"']
        : [],
    load(c) {
      if (!c.files || c.files.length === 0)
        throw new DataError('data.dataset is "cifar10" but data.files is not set (a list of CIFAR-10 binary batch files)');
      return loadCifar10(c.files);
    },
  },
);
