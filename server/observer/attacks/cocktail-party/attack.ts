/**
 * The registered "cocktail-party" attack: the first dense layer's weight gradient (and its bias
 * gradient, for exact scale) from the observed update — a client's, or the secure aggregate's — is
 * unmixed into the examples behind it (readout.ts). An aggregate counts Σ numExamples sources.
 * `attack.iterations` is the number of Adam steps of the paper's unmixing objective. Labels come
 * from the count rule on the logit layer (label-inference.ts).
 */
import { modelFromDefinition } from '../../../../shared/models/definition';
import type { Model } from '../../../../shared/models';
import { splitFlat } from '../../../../shared/models/params';
import { tf } from '../../../../shared/tensor/tf';
import { initBackend } from '../../../../shared/tensor/backend';
import type { Capability } from '../../threat-model';
import { observedGradient, victimBatchSize } from '../dlg';
import { inferLabels } from '../label-inference';
import { builtinAttackEntry, type BuiltinAttackSettings } from '../settings';
import type { AttackDefinition, AttackInput, AttackOutput, AttackProgress } from '../types';
import { cocktailParty } from './readout';
import { cocktailPartyRequirements } from './requirements';
import { firstProblemOf, logitLayerProblem } from '../model-problems';

function firstDenseProblem(model: Model): string | null {
  return model.firstDenseLayer === null
    ? `model "${model.name}" has no dense first layer with bias (Cocktail Party unmixes that layer's weight gradient); use model.name "mlp"`
    : null;
}

function labelsFor(input: AttackInput, model: Model, gradient: Float32Array, count: number): number[] {
  const params = splitFlat(input.payload.params, model.specs).map((p, i) => tf.tensor(p, model.specs[i].shape, 'float32'));
  try {
    return inferLabels({ model, params, gradient, count, seed: input.seed });
  } finally {
    tf.dispose(params);
  }
}

async function runCocktailParty(input: AttackInput, onProgress?: (p: AttackProgress) => void): Promise<AttackOutput> {
  await initBackend();
  const started = performance.now();
  const model = modelFromDefinition(input.payload.model);
  const problem = firstDenseProblem(model);
  if (problem || model.firstDenseLayer === null) throw new Error(`cocktail-party: ${problem}`);
  const { inputShape } = input.payload.model;
  const gradient = observedGradient(input);
  const parts = splitFlat(gradient, model.specs);
  const kernel = parts[model.firstDenseLayer.kernel];
  const bias = parts[model.firstDenseLayer.bias];
  const behind = victimBatchSize(input);
  // At most one source per mixture (unit) and per pixel: beyond that the rest cannot be separated.
  const examples = Math.min(behind, bias.length, inputShape[0] * inputShape[1] * inputShape[2]);
  const result = cocktailParty(kernel, {
    examples,
    shape: inputShape,
    units: bias.length,
    biasGradient: bias,
    method: 'priors',
    binaryPrior: true,
    iterations: input.settings.iterations,
    seed: input.seed,
  });
  onProgress?.({ iteration: input.settings.iterations, objective: 0, total: input.settings.iterations });
  const labels = labelsFor(input, model, gradient, result.count);
  return {
    images: result.images,
    count: result.count,
    labels,
    iterations: input.settings.iterations,
    evaluations: input.settings.iterations,
    finalObjective: NaN,
    seconds: (performance.now() - started) / 1000,
    ...(result.count < behind ? { truncated: { batchSize: behind, attackedSlots: result.count } } : {}),
  };
}

export const cocktailPartyAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'cocktail-party',
  settings: builtinAttackEntry('cocktail-party'),
  run: runCocktailParty,
  // The binary-image prior is a generic prior on the inputs (SoK B); no mean image, so no surrogate data.
  requires: (): readonly Capability[] => cocktailPartyRequirements({ method: 'priors', binaryPrior: true }),
  modelProblem: (model) => firstProblemOf(firstDenseProblem(model), logitLayerProblem(model, 'cocktail-party')),
};
