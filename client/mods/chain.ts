/** Composes mods into one handler, like Flower's make_ffn: mods[0] runs first, `terminal` last. */
import type { ClientMod, Next } from './types';

export function chainMods(mods: readonly ClientMod[], terminal: Next): Next {
  return mods.reduceRight<Next>((next, mod) => (update, context) => mod(update, context, next), terminal);
}
