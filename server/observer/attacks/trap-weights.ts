/**
 * Curious Abandon Honesty's readout as an attack: the server crafted the first dense layer (scenario
 * server.behaviour "trap-weights", architecture unchanged); a unit one example alone fired gives it
 * as ∇W_i / ∇b_i (server/malicious/trap-readout.ts). `secrets` name the crafted layer.
 */
import { modelFromDefinition } from '../../../shared/models/definition';
import { trapReadoutFromUpdate } from '../../malicious/trap-readout';
import { examplesBehind, readoutOutput } from './planted-labels';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';
import { firstDenseProblem, firstProblemOf, logitLayerProblem } from './model-problems';
import type { AttackDefinition, AttackInput, AttackOutput } from './types';

export async function trapAttack(input: AttackInput<unknown>): Promise<AttackOutput> {
  const started = performance.now();
  const s = input.secrets as { kind?: unknown } | undefined;
  if (!s || s.kind !== 'trap-weights') {
    throw new Error(
      'trap-weights: no trap secrets; this attack needs a server that crafted the first layer (scenario server.behaviour "trap-weights")',
    );
  }
  const model = modelFromDefinition(input.payload.model);
  const layer = model.firstDenseLayer;
  if (!layer) throw new Error(`trap-weights: model "${model.name}" has no dense first layer`);
  const expected = examplesBehind(input);
  const read = trapReadoutFromUpdate(input.observed.update, model.specs, layer, { expected });
  return readoutOutput(input, model, read, read.inRangeUnits, started);
}

export const trapWeightsAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'trap-weights',
  settings: builtinAttackEntry('trap-weights'),
  run: trapAttack,
  // Reads the crafted first layer (modify-model); labels and the batch size come from the training
  // settings. The public examples of a calibrated trap are the server behaviour's need (behaviourRequires).
  requires: () => ['updates', 'architecture', 'hyperparameters', 'modify-model'],
  modelProblem: (model) =>
    firstProblemOf(
      firstDenseProblem(model, "the server crafts that layer's weights and divides its weight gradient by its bias gradient"),
      logitLayerProblem(model, 'trap-weights'),
    ),
};
