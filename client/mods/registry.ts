/**
 * Client mod implementations by registered name (shared/mods/registry.ts holds their config
 * schemas). The mapped type makes a registered config without an implementation a compile error.
 */
import type { ClientModConfigs, ClientModName } from '../../shared/mods/registry';
import { transformMod, type ClientMod } from './types';
import { clipping } from './clipping';
import { noise } from './noise';
import { pruning } from './pruning';
import { quantization } from './quantization';

export type { ClientModName } from '../../shared/mods/registry';

export type ModFactory<K extends ClientModName> = (config: ClientModConfigs[K]) => ClientMod;

export const CLIENT_MODS: { [K in ClientModName]: ModFactory<K> } = {
  clipping: (c) => transformMod(clipping, c),
  noise: (c) => transformMod(noise, c),
  pruning: (c) => transformMod(pruning, c),
  quantization: (c) => transformMod(quantization, c),
};
