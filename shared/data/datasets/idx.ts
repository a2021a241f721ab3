import { z } from 'zod';
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { classesField } from '../fields';
import { loadIdx } from '../idx';

const MISSING = 'data.images and data.labels: both are required when data.dataset is "idx"';

export const idxDataset = datasetEntry(
  'idx',
  "a user's IDX files (MNIST / Fashion-MNIST format, any channels and class count)",
  {
    /** Paths of the images and labels files, relative to the working directory. */
    images: z.string().optional(),
    labels: z.string().optional(),
    /** Class count (labels must be below it); shared with synthetic. Images may have channels (magic 0x00000804). */
    classes: classesField,
  },
  {
    problems: (c) => (!c.images || !c.labels ? [MISSING] : []),
    load(c) {
      if (!c.images || !c.labels) {
        throw new DataError(
          'data.dataset is "idx" but data.images and data.labels are not both set (paths of the IDX images and labels files)',
        );
      }
      return loadIdx(c.images, c.labels, c.classes);
    },
  },
);
