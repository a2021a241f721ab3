import { z } from 'zod';
import { modConfig } from './types';

export const pruningConfig = modConfig(
  'pruning',
  z.strictObject({ fraction: z.number().min(0).max(1) }),
  'zero the smallest-magnitude fraction of each tensor',
);
