/**
 * Settings of the client-side defences (client mods) under `defenses.*` and their order
 * (docs/defenses.md), composed from the registry (shared/mods/registry.ts). Shared: the server
 * publishes them, clients apply them.
 */
import { z } from 'zod';
import { clippingConfig } from './clipping';
import { noiseConfig } from './noise';
import { pruningConfig } from './pruning';
import { quantizationConfig } from './quantization';
import { CLIENT_MOD_CONFIGS, CLIENT_MOD_NAMES, type ClientModConfigs, type ClientModName } from './registry';

export { CLIENT_MOD_CONFIGS, CLIENT_MOD_NAMES, type ClientModConfigs, type ClientModName } from './registry';

export const clippingSchema = clippingConfig.schema;
export const noiseSchema = noiseConfig.schema;
export const pruningSchema = pruningConfig.schema;
export const quantizationSchema = quantizationConfig.schema;

/** Client-side pipeline order; names of the registered mods. */
export const modOrderSchema = z.array(z.enum(CLIENT_MOD_NAMES)).default(['clipping', 'pruning', 'noise', 'quantization']);

type OptionalConfigs = { [K in ClientModName]: z.ZodOptional<Extract<(typeof CLIENT_MOD_CONFIGS)[number], { name: K }>['schema']> };

function optionalConfigs(): OptionalConfigs {
  const shape: Record<string, z.ZodType> = {};
  for (const entry of CLIENT_MOD_CONFIGS) shape[entry.name] = entry.schema.optional();
  return shape as OptionalConfigs;
}

/** The client-side part of `defenses`, spread into the full defences object. */
export const clientModsShape = {
  order: modOrderSchema,
  ...optionalConfigs(),
};

export type ClippingConfig = ClientModConfigs['clipping'];
export type NoiseConfig = ClientModConfigs['noise'];
export type PruningConfig = ClientModConfigs['pruning'];
export type QuantizationConfig = ClientModConfigs['quantization'];
