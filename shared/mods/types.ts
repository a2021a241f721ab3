/** A client mod's public half: its name under `defenses.*` / in `defenses.order` and its config schema. */
import type { z } from 'zod';

export interface ModConfigEntry<N extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly schema: S;
  /** One line for docs and errors. */
  readonly summary: string;
}

export function modConfig<N extends string, S extends z.ZodType>(name: N, schema: S, summary: string): ModConfigEntry<N, S> {
  return { name, schema, summary };
}
