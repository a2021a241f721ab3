/**
 * results.json `effective`: the configuration as it applied, not as written — the data's real
 * shape and class count (read from the data), and only the model fields the chosen model reads.
 */
import { MODEL_ENTRIES } from '../../shared/models/registry';
import type { ModelDefinition } from '../../shared/models/graph/validate';
import type { Scenario } from '../scenario/schema';

export interface EffectiveConfiguration {
  data: { dataset: string; shape: number[]; classes: number };
  /** `model.name` plus the fields that model reads. */
  model: Record<string, unknown>;
  /** Parameters of the model as built. */
  parameters?: number;
}

export function effectiveConfiguration(
  s: Scenario,
  definition: Pick<ModelDefinition, 'inputShape' | 'numClasses'>,
  parameters?: number,
): EffectiveConfiguration {
  const entry = MODEL_ENTRIES.find((e) => e.name === s.model.name);
  const config = s.model as Record<string, unknown>;
  const model: Record<string, unknown> = { name: s.model.name };
  for (const field of Object.keys(entry?.fields ?? config))
    if (field !== 'name' && config[field] !== undefined) model[field] = config[field];
  return {
    data: { dataset: s.data.dataset, shape: [...definition.inputShape], classes: definition.numClasses },
    model,
    ...(parameters !== undefined ? { parameters } : {}),
  };
}
