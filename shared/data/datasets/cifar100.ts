import { loadCifar100 } from '../cifar100';
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { filesField, labelField } from '../fields';

const LABELS = ['fine', 'coarse'];

export const cifar100Dataset = datasetEntry(
  'cifar100',
  'a user\'s CIFAR-100 binary files (train.bin, test.bin); data.label "fine" (100 classes) or "coarse" (20)',
  { files: filesField, label: labelField },
  {
    problems(c) {
      const problems: string[] = [];
      if (!c.files || c.files.length === 0)
        problems.push('data.files: at least one CIFAR-100 binary file is required when data.dataset is "cifar100"');
      if (c.label !== undefined && !LABELS.includes(c.label))
        problems.push(`data.label: "${c.label}" for cifar100; expected "fine" or "coarse"`);
      return problems;
    },
    load(c) {
      if (!c.files || c.files.length === 0)
        throw new DataError('data.dataset is "cifar100" but data.files is not set (a list of CIFAR-100 binary files)');
      if (c.label !== undefined && c.label !== 'fine' && c.label !== 'coarse')
        throw new DataError(`data.label: "${c.label}" for cifar100; expected "fine" or "coarse"`);
      return loadCifar100({ files: c.files, label: c.label });
    },
  },
);
