/**
 * Client-side defences by the name scenarios use under `defenses.*` and in `defenses.order`.
 * Adding one: a file exporting a Defense, one line here (and its schema entry).
 */
import type { DefensesConfig } from '../../shared/scenario/public';
import type { Defense } from './types';
import { clipping } from './clipping';
import { noise } from './noise';
import { pruning } from './pruning';
import { quantization } from './quantization';

export type ClientDefenseName = DefensesConfig['order'][number];

export const CLIENT_DEFENSES: { [K in ClientDefenseName]: Defense<NonNullable<DefensesConfig[K]>> } = {
  clipping,
  noise,
  pruning,
  quantization,
};
