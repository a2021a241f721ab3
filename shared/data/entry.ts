/**
 * A dataset's registry entry: its `data.dataset` name, the `data.*` fields it reads (zod, with
 * defaults), the cross-field rules it needs, and its loader.
 */
import { z } from 'zod';
import type { Dataset } from './types';

export interface DatasetEntry<N extends string = string, F extends z.ZodRawShape = z.ZodRawShape> {
  readonly name: N;
  readonly summary: string;
  readonly fields: F;
  /** The entry's own schema: `dataset` plus the fields it reads. */
  readonly schema: z.ZodObject<{ dataset: z.ZodLiteral<N> } & F>;
  /** What is missing or inconsistent, one line each naming the field; empty when fine. */
  problems(config: z.infer<z.ZodObject<F>>): string[];
  /** The whole dataset before splitting. `seed` is the scenario seed. */
  load(config: z.infer<z.ZodObject<F>>, seed: number): Dataset;
}

export function datasetEntry<N extends string, F extends z.ZodRawShape>(
  name: N,
  summary: string,
  fields: F,
  impl: Pick<DatasetEntry<N, F>, 'problems' | 'load'>,
): DatasetEntry<N, F> {
  const schema = z.strictObject({ dataset: z.literal(name), ...fields }) as z.ZodObject<{ dataset: z.ZodLiteral<N> } & F>;
  return { name, summary, fields, schema, problems: impl.problems, load: impl.load };
}
