/**
 * Client mods by the name scenarios use under `defenses.*` and in `defenses.order`. Adding one: a
 * file here exporting its `modConfig(name, schema, summary)`, one line in this list, and its
 * implementation in client/mods/registry.ts (the compiler insists on it).
 */
import type { z } from 'zod';
import { clippingConfig } from './clipping';
import { noiseConfig } from './noise';
import { pruningConfig } from './pruning';
import { quantizationConfig } from './quantization';

/** In the order of the default `defenses.order`'s names as scenarios have always listed them. */
export const CLIENT_MOD_CONFIGS = [clippingConfig, pruningConfig, quantizationConfig, noiseConfig] as const;

type Entry = (typeof CLIENT_MOD_CONFIGS)[number];
export type ClientModName = Entry['name'];
/** name → the parsed config of that mod. */
export type ClientModConfigs = { [E in Entry as E['name']]: z.infer<E['schema']> };

export const CLIENT_MOD_NAMES = CLIENT_MOD_CONFIGS.map((e) => e.name) as [ClientModName, ...ClientModName[]];
