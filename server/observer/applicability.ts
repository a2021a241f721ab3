/**
 * Which attacks apply to a model, and why not (`fedleak inspect-model`): for every registered attack,
 * its declared `modelProblem` on this model, the capabilities it declares for its default settings,
 * and the weakest SoK threat model granting them; plus the model properties attacks depend on.
 * Pure: no files, no output; the CLI formats the result.
 */
import type { Model } from '../../shared/models/types';
import { attackNames, getAttackDefinition } from './attacks';
import { requiredCapabilities, type AttackDefinition } from './attacks/types';
import { THREAT_MODEL_LETTERS, THREAT_MODEL_PRESETS, type Capability, type ThreatModelLetter } from './threat-model';

export interface AttackApplicability {
  attack: string;
  applies: boolean;
  /** The attack's own reason it cannot run on this model; null when it applies. */
  problem: string | null;
  /** Capabilities it declares for its default settings. */
  requires: Capability[];
  /** The weakest SoK preset (first in A…H) granting all of `requires`; null when none does. */
  weakestThreatModel: ThreatModelLetter | null;
  /** Every preset granting them. */
  threatModels: ThreatModelLetter[];
}

export interface ModelTraits {
  /** The last layer is dense with bias and linear activation: the label rules (iDLG sign rule, count rule) read it. */
  logitDense: string | null;
  /** The first layer with parameters is dense with bias on the flattened input: analytic-style readouts divide it out. */
  firstDenseWithBias: string | null;
  /** Layers whose op is batchNorm / dropout: both behave differently in training, which the client runs. */
  batchNormLayers: string[];
  dropoutLayers: string[];
}

export interface ModelApplicability {
  traits: ModelTraits;
  attacks: AttackApplicability[];
  /** One sentence per trait that changes what an attacker needs. */
  notes: string[];
}

/** The layer using parameter tensor `paramIndex`, by name. */
function layerOwning(model: Model, paramIndex: number | undefined): string | null {
  if (paramIndex === undefined) return null;
  const name = model.specs[paramIndex].name;
  const layer = model.definition.layers.find((l) => l.params.includes(name));
  return layer?.name ?? null;
}

function layersWithOp(model: Model, op: string): string[] {
  return model.definition.layers.filter((l) => l.op === op).map((l) => l.name);
}

export function modelTraits(model: Model): ModelTraits {
  return {
    logitDense: layerOwning(model, model.logitDense?.kernel),
    firstDenseWithBias: layerOwning(model, model.firstDenseLayer?.kernel),
    batchNormLayers: layersWithOp(model, 'batchNorm'),
    dropoutLayers: layersWithOp(model, 'dropout'),
  };
}

function defaultSettings(definition: AttackDefinition): unknown {
  const parsed = definition.settings.safeParse({ name: definition.name });
  return parsed.success ? parsed.data : {};
}

/** Presets granting every capability of `required`, weakest first (the A…H order). */
export function threatModelsGranting(required: readonly Capability[]): ThreatModelLetter[] {
  return THREAT_MODEL_LETTERS.filter((l) => required.every((c) => THREAT_MODEL_PRESETS[l].capabilities.includes(c)));
}

function applicabilityOf(definition: AttackDefinition, model: Model): AttackApplicability {
  const requires = [...requiredCapabilities(definition, defaultSettings(definition))];
  const problem = definition.modelProblem?.(model) ?? null;
  const threatModels = threatModelsGranting(requires);
  return {
    attack: definition.name,
    applies: problem === null,
    problem,
    requires,
    weakestThreatModel: threatModels[0] ?? null,
    threatModels,
  };
}

function notesOf(traits: ModelTraits): string[] {
  const notes: string[] = [];
  if (traits.batchNormLayers.length > 0)
    notes.push(
      `batch norm (${traits.batchNormLayers.join(', ')}): clients train in training mode (batch statistics), so the attacks match gradients in training mode; a batch-norm statistics regulariser would need the batchnorm-statistics capability (threat model ${threatModelsGranting(['batchnorm-statistics'])[0] ?? 'none'})`,
    );
  if (traits.dropoutLayers.length > 0)
    notes.push(
      `dropout (${traits.dropoutLayers.join(', ')}): the clients' masks are random; the attacker models dropout as the identity unless it knows the seed`,
    );
  if (traits.logitDense === null)
    notes.push(
      'no dense logit layer (dense with bias, linear activation, last): the label rules (iDLG sign rule, count rule) have nothing to read',
    );
  if (traits.firstDenseWithBias === null)
    notes.push('no dense first layer with bias on the flattened input: no exact analytic readout (Phong et al.) of the input');
  return notes;
}

/** Every attack of `attacks` (by default every one registered: the built-ins and loaded plug-ins) against `model`. */
export function attackApplicability(
  model: Model,
  attacks: readonly AttackDefinition[] = attackNames().map(getAttackDefinition),
): ModelApplicability {
  const traits = modelTraits(model);
  return { traits, attacks: attacks.map((d) => applicabilityOf(d, model)), notes: notesOf(traits) };
}
