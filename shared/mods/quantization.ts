import { z } from 'zod';
import { modConfig } from './types';

export const quantizationConfig = modConfig(
  'quantization',
  z.strictObject({ bits: z.union([z.literal(16), z.literal(8)]) }),
  'round to fp16, or int8 per tensor',
);
