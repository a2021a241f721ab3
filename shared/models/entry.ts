/**
 * A built-in model's registry entry: its scenario name, the `model.*` fields it reads (zod, with
 * defaults) and the definition it stands for on a task. Fields two models share (hidden,
 * activation, init) are the same schema objects from shared/models/fields.ts.
 */
import { z } from 'zod';
import type { ModelDefinition } from './graph/validate';
import type { ImageShape } from './types';

export interface ModelEntry<N extends string = string, F extends z.ZodRawShape = z.ZodRawShape> {
  readonly name: N;
  /** One line for docs and `fedleak` listings. */
  readonly summary: string;
  readonly fields: F;
  /** The entry's own schema: `name` plus the fields it reads. */
  readonly schema: z.ZodObject<{ name: z.ZodLiteral<N> } & F>;
  definition(config: z.infer<z.ZodObject<F>>, inputShape: ImageShape, numClasses: number): ModelDefinition;
  /** The initial global parameters when the model brings its own (an imported file); else drawn from `init`. */
  initialParams?(config: z.infer<z.ZodObject<F>>): Float32Array;
  /** Cross-field rules (e.g. a required path), one line each naming the field; empty when fine. */
  problems?(config: z.infer<z.ZodObject<F>>): string[];
}

export function modelEntry<N extends string, F extends z.ZodRawShape>(
  name: N,
  summary: string,
  fields: F,
  definition: (config: z.infer<z.ZodObject<F>>, inputShape: ImageShape, numClasses: number) => ModelDefinition,
  extra: Pick<ModelEntry<N, F>, 'initialParams' | 'problems'> = {},
): ModelEntry<N, F> {
  return {
    name,
    summary,
    fields,
    schema: z.strictObject({ name: z.literal(name), ...fields }) as z.ZodObject<{ name: z.ZodLiteral<N> } & F>,
    definition,
    ...extra,
  };
}
