/** The definition a built-in model (scenario `model`) stands for, from the registry. */
import type { ModelConfig } from './schema';
import { MODEL_ENTRIES } from './registry';
import type { ModelEntry } from './entry';
import type { ModelDefinition } from './graph/validate';
import type { ImageShape } from './types';

function entryFor(config: ModelConfig): ModelEntry {
  const entry = MODEL_ENTRIES.find((e) => e.name === config.name) as ModelEntry | undefined;
  if (!entry) throw new Error(`model.name: unknown model "${config.name}"; known: ${MODEL_ENTRIES.map((e) => e.name).join(', ')}`);
  return entry;
}

export function builtinDefinition(config: ModelConfig, inputShape: ImageShape, numClasses: number): ModelDefinition {
  return entryFor(config).definition(config, inputShape, numClasses);
}

/** The initial global parameters the model brings (an imported file's weights), or null: draw them from its `init`. */
export function initialParamsFor(config: ModelConfig): Float32Array | null {
  return entryFor(config).initialParams?.(config) ?? null;
}

/** Cross-field rules of the chosen model (e.g. tfjs-layers needs `path`); one line each. */
export function modelConfigProblems(config: ModelConfig): string[] {
  return entryFor(config).problems?.(config) ?? [];
}
