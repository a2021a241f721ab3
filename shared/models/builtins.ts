/** The definition a built-in model (scenario `model`) stands for, from the registry. */
import type { ModelConfig } from './schema';
import { MODEL_ENTRIES } from './registry';
import type { ModelEntry } from './entry';
import type { ModelDefinition } from './graph/validate';
import type { ImageShape } from './types';

export function builtinDefinition(config: ModelConfig, inputShape: ImageShape, numClasses: number): ModelDefinition {
  const entry = MODEL_ENTRIES.find((e) => e.name === config.name) as ModelEntry | undefined;
  if (!entry) throw new Error(`model.name: unknown model "${config.name}"; known: ${MODEL_ENTRIES.map((e) => e.name).join(', ')}`);
  return entry.definition(config, inputShape, numClasses);
}
