/**
 * Settings of the client-side defences (client mods) under `defenses.*` and their order
 * (docs/defenses.md). Shared: the server publishes them, clients apply them.
 */
import { z } from 'zod';

const fraction01 = z.number().min(0).max(1);

export const clippingSchema = z.strictObject({ norm: z.number().positive() });
export const noiseSchema = z.strictObject({
  mechanism: z.enum(['gaussian', 'laplace']).default('gaussian'),
  variance: z.number().positive(),
});
export const pruningSchema = z.strictObject({ fraction: fraction01 });
export const quantizationSchema = z.strictObject({ bits: z.union([z.literal(16), z.literal(8)]) });

export const CLIENT_MOD_NAMES = ['clipping', 'pruning', 'quantization', 'noise'] as const;

/** Client-side pipeline order; names of the defences above. */
export const modOrderSchema = z.array(z.enum(CLIENT_MOD_NAMES)).default(['clipping', 'pruning', 'noise', 'quantization']);

/** The client-side part of `defenses`, spread into the full defences object. */
export const clientModsShape = {
  order: modOrderSchema,
  clipping: clippingSchema.optional(),
  noise: noiseSchema.optional(),
  pruning: pruningSchema.optional(),
  quantization: quantizationSchema.optional(),
};

export type ClippingConfig = z.infer<typeof clippingSchema>;
export type NoiseConfig = z.infer<typeof noiseSchema>;
export type PruningConfig = z.infer<typeof pruningSchema>;
export type QuantizationConfig = z.infer<typeof quantizationSchema>;
