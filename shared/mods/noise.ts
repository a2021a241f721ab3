import { z } from 'zod';
import { modConfig } from './types';

export const noiseConfig = modConfig(
  'noise',
  z.strictObject({ mechanism: z.enum(['gaussian', 'laplace']).default('gaussian'), variance: z.number().positive() }),
  'add i.i.d. Gaussian or Laplace noise of the given variance to every coordinate',
);
