/** `model.*` fields more than one built-in model reads; one schema object each, so the registry can merge them. */
import { z } from 'zod';
import { initSchema } from './init';

const positiveInt = z.number().int().positive();

/** mlp / convnet: hidden dense widths. */
export const hiddenField = z.array(positiveInt).default([200]);
export const activationField = z.enum(['relu', 'sigmoid', 'tanh']).default('relu');
/** Every model: overrides its default initialisation. */
export const initField = initSchema.optional();
/** resnet: channel multiplier (default 1); convnet-ig: base channel count (default 64). Optional so each model applies its own default. */
export const widthField = positiveInt.optional();
/** mlp: dropout rate after each hidden layer during local training (0 or absent: no dropout layers). */
export const dropoutField = z.number().min(0).lt(1).optional();
