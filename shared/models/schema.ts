/**
 * The scenario's `model` section (docs/scenarios.md): which built-in model and its settings,
 * composed from the model registry (shared/models/registry.ts). The section stays one flat object,
 * as scenarios have always written it: `name` picks the entry and every registered field is
 * accepted (a model ignores the fields of the others, as before).
 */
import { z } from 'zod';
import { MODEL_ENTRIES, type BuiltinModelName } from './registry';

export { initSchema } from './init';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type MergedFields = UnionToIntersection<(typeof MODEL_ENTRIES)[number]['fields']>;

/** Every entry's fields in one shape; a name two entries share must be the same schema object. */
function mergedFields(): MergedFields {
  const shape: Record<string, z.ZodType> = {};
  const owner: Record<string, string> = {};
  for (const entry of MODEL_ENTRIES) {
    for (const [field, schema] of Object.entries(entry.fields) as [string, z.ZodType][]) {
      if (shape[field] && shape[field] !== schema) {
        throw new Error(
          `model registry: models "${owner[field]}" and "${entry.name}" declare model.${field} differently; share one schema (shared/models/fields.ts)`,
        );
      }
      shape[field] = schema;
      owner[field] ??= entry.name;
    }
  }
  // `init` last, as scenarios have always listed it.
  const { init, ...rest } = shape;
  return { ...rest, ...(init ? { init } : {}) } as MergedFields;
}

const MODEL_NAMES = MODEL_ENTRIES.map((e) => e.name) as [BuiltinModelName, ...BuiltinModelName[]];

export const modelSchema = z.strictObject({
  name: z.enum(MODEL_NAMES).default('lenet-zhu'),
  ...mergedFields(),
});

export type ModelConfig = z.infer<typeof modelSchema>;
