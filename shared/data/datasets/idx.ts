import { z } from 'zod';
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { loadIdx } from '../idx';

const MISSING = 'data.images and data.labels: both are required when data.dataset is "idx"';

export const idxDataset = datasetEntry(
  'idx',
  "a user's IDX files (MNIST / Fashion-MNIST format)",
  {
    /** Paths of the images and labels files, relative to the working directory. */
    images: z.string().optional(),
    labels: z.string().optional(),
  },
  {
    problems: (c) => (!c.images || !c.labels ? [MISSING] : []),
    load(c) {
      if (!c.images || !c.labels) {
        throw new DataError('data.dataset is "idx" but data.images and data.labels are not both set (paths of the IDX images and labels files)');
      }
      return loadIdx(c.images, c.labels);
    },
  },
);
