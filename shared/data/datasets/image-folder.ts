import { z } from 'zod';
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { pathField } from '../fields';
import { loadImageFolder } from '../image-folder';

const positiveInt = z.number().int().positive();
const MISSING = 'data.path: the image folder (one sub-folder per class) is required when data.dataset is "image-folder"';

export const imageFolderDataset = datasetEntry(
  'image-folder',
  'PNG / JPEG files in one sub-folder per class (docs/data.md)',
  {
    path: pathField,
    /** [h, w, c]: resize every image to h×w and convert it to c channels (1–4); default the first image's. */
    imageShape: z.tuple([positiveInt, positiveInt, z.number().int().min(1).max(4)]).optional(),
  },
  {
    problems: (c) => (c.path ? [] : [MISSING]),
    load(c) {
      if (!c.path) throw new DataError(MISSING);
      return loadImageFolder({ path: c.path, imageShape: c.imageShape });
    },
  },
);
