import { z } from 'zod';
import { Rng } from '../../random';
import { datasetEntry } from '../entry';
import { classesField, shapeField } from '../fields';
import { makeSynthetic } from '../synthetic';

const positiveInt = z.number().int().positive();

export const syntheticDataset = datasetEntry(
  'synthetic',
  'seeded synthetic images (docs/data.md)',
  {
    /** Image shape [h, w, c], class count and example count. */
    shape: shapeField,
    classes: classesField,
    size: positiveInt.default(1000),
  },
  {
    problems: () => [],
    load: (c, seed) => makeSynthetic({ shape: c.shape, classes: c.classes, size: c.size, seed: new Rng(seed).fork('synthetic').seed }),
  },
);
