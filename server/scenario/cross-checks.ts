/**
 * Cross-field rules checked when a scenario is loaded, before any training: the attack against the
 * threat model granted and the model it must attack (from the attack's declared requirements), attack
 * rounds against the run's rounds, and dataset-specific fields against the chosen dataset. One line
 * per problem, naming the field; empty when the scenario is coherent.
 */
import { DATASET_ENTRIES } from '../../shared/data/registry';
import { NO_SERVER_DATA } from '../../shared/data/datasets/none';
import { definitionFor } from '../../shared/models/definition';
import { modelFromDefinition } from '../../shared/models/definition';
import type { Model } from '../../shared/models';
import { checkAttackAllowed, resolveThreatModel } from '../observer/threat-model';
import { requiredCapabilities, type AttackDefinition } from '../observer/attacks/types';
import { getAttackDefinition } from '../observer/attacks';
import { attackSettingsOf, isPluginAttack } from './attack-schema';
import { behaviourRequires } from './malicious-schema';
import { attributeInferenceProblems } from '../release/attribute-check';
import type { Scenario } from './schema';

/** The attack's definition, or null for "none" or a plug-in not registered in this thread. */
function definitionOf(s: Scenario): AttackDefinition | null {
  if (s.attack.name === 'none') return null;
  try {
    return getAttackDefinition(s.attack.name);
  } catch {
    return null;
  }
}

/** The scenario's model with a representative input shape (structure, not sizes, matters here). */
function scenarioModel(s: Scenario): Model | null {
  const d = s.data;
  const shape: [number, number, number] =
    d.dataset === 'cifar10' || d.dataset === 'cifar100'
      ? [32, 32, 3]
      : d.dataset === 'synthetic' || d.dataset === NO_SERVER_DATA
        ? [...d.shape]
        : [28, 28, 1];
  try {
    return modelFromDefinition(definitionFor(s.model, shape, 10, d.normalize));
  } catch {
    return null;
  }
}

export function attackProblems(s: Scenario, definition: AttackDefinition | null = definitionOf(s)): string[] {
  if (!definition) return [];
  const problems: string[] = [];
  const settings = attackSettingsOf(s.attack);
  const permission = checkAttackAllowed(
    requiredCapabilities(definition, settings),
    resolveThreatModel(s.threatModel),
    `attack "${definition.name}"`,
  );
  if (!permission.allowed) problems.push(`threatModel: ${permission.message}`);
  const model = definition.modelProblem ? scenarioModel(s) : null;
  const modelProblem = model && definition.modelProblem ? definition.modelProblem(model) : null;
  // The first-layer attacks read pixels off the first dense layer; a normalize layer before it hides them.
  const normalized = s.data.normalize
    ? ' (data.normalize puts a normalize layer before the first dense layer, which this attack does not see through: remove data.normalize for it)'
    : '';
  if (modelProblem) problems.push(`attack.name: "${definition.name}" cannot attack this model: ${modelProblem}${normalized}`);
  const late = s.attack.rounds.filter((r) => r > s.federation.rounds);
  if (late.length > 0) {
    problems.push(
      `attack.rounds: round${late.length > 1 ? 's' : ''} ${late.join(', ')} never happen${late.length > 1 ? '' : 's'}: federation.rounds is ${s.federation.rounds}`,
    );
  }
  return problems;
}

/**
 * A malicious server behaviour against the threat model: a server that plants a model needs
 * "modify-model" (and what it fits the planted parameters on) granted, whatever the attack.
 */
export function serverBehaviourProblems(s: Scenario): string[] {
  const permission = checkAttackAllowed(
    behaviourRequires(s.server),
    resolveThreatModel(s.threatModel),
    `server.behaviour "${s.server.behaviour}"`,
  );
  return permission.allowed ? [] : [`threatModel: ${permission.message}`];
}

/** `data.*` fields written in the scenario that only another dataset reads. */
export function datasetFieldProblems(s: Scenario, raw: unknown): string[] {
  const written = rawData(raw);
  const own = new Set(Object.keys(DATASET_ENTRIES.find((e) => e.name === s.data.dataset)?.fields ?? {}));
  const problems: string[] = [];
  for (const entry of DATASET_ENTRIES) {
    if (entry.name === s.data.dataset) continue;
    for (const field of Object.keys(entry.fields)) {
      if (own.has(field) || !(field in written)) continue;
      // A resolved scenario (results.json, a checkpoint) carries every dataset's defaults: only a value set on purpose counts.
      if (isDefault(entry.fields[field as keyof typeof entry.fields] as unknown as ZodLike, written[field])) continue;
      problems.push(
        `data.${field}: only dataset "${entry.name}" reads it, but data.dataset is "${s.data.dataset}"; remove it or set data.dataset to "${entry.name}"`,
      );
    }
  }
  return [...new Set(problems)];
}

interface ZodLike {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

function isDefault(schema: ZodLike, value: unknown): boolean {
  const parsed = schema.safeParse(undefined);
  return parsed.success && parsed.data !== undefined && JSON.stringify(parsed.data) === JSON.stringify(value);
}

function rawData(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null) return {};
  const data = (raw as Record<string, unknown>).data;
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/**
 * What needs examples on the server when the clients hold the data: a planted model is fitted on the
 * server's public data (none with data.dataset "none"), and the release step scores against the
 * federation's training data, which with data.location "clients" never reaches the server.
 */
export function clientHeldDataProblems(s: Scenario): string[] {
  const problems: string[] = [];
  if (s.data.dataset === NO_SERVER_DATA && s.server.behaviour !== 'honest') {
    problems.push(
      `server.behaviour: "${s.server.behaviour}" fits its planted layer on the server's public data, and data.dataset "none" gives it none; name a dataset the server may read in data, or use "honest"`,
    );
  }
  if (s.data.location === 'clients' && s.release) {
    problems.push(
      'release: the released-model attacks are scored against the federation\'s training data, which stays on the clients with data.location "clients"; remove release or keep the data on the server',
    );
  }
  return problems;
}

/** trap-weights crafts the first dense layer; data.normalize puts a normalize layer in front of it. */
function plantedNormalizeProblems(s: Scenario): string[] {
  if (s.server.behaviour !== 'trap-weights' || !s.data.normalize) return [];
  return [
    'server.behaviour: "trap-weights" crafts the first dense layer, which data.normalize puts a normalize layer before; remove data.normalize for it',
  ];
}

export function crossFieldProblems(s: Scenario, raw: unknown): string[] {
  // A plug-in's definition is loaded by resolvePluginAttack; its declared requirements are checked there.
  return [
    ...serverBehaviourProblems(s),
    ...(isPluginAttack(s.attack) ? [] : attackProblems(s)),
    ...datasetFieldProblems(s, raw),
    ...attributeInferenceProblems(s.release, s.data, s.seed),
    ...clientHeldDataProblems(s),
    ...plantedNormalizeProblems(s),
  ];
}
