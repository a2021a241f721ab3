import { z } from 'zod';
import { modConfig } from './types';

export const clippingConfig = modConfig(
  'clipping',
  z.strictObject({ norm: z.number().positive() }),
  'scale the update down to L2 norm ≤ norm',
);
