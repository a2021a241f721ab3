/** The scenario's `model` section (docs/scenarios.md): which built-in model and its shape. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const activation = z.enum(['relu', 'sigmoid', 'tanh']);

export const initSchema = z.union([
  z.strictObject({ kind: z.literal('uniform'), range: z.number().positive() }),
  z.strictObject({ kind: z.literal('fan-in') }),
]);

export const modelSchema = z.strictObject({
  name: z.enum(['lenet-zhu', 'mlp', 'convnet']).default('lenet-zhu'),
  /** mlp / convnet: hidden dense widths. */
  hidden: z.array(positiveInt).default([200]),
  activation: activation.default('relu'),
  /** convnet: output channels of each conv layer. */
  channels: z.array(positiveInt).default([16, 32]),
  kernelSize: positiveInt.default(3),
  stride: positiveInt.default(1),
  padding: nonNegativeInt.default(1),
  pool: z.boolean().default(true),
  init: initSchema.optional(),
});

export type ModelConfig = z.infer<typeof modelSchema>;
