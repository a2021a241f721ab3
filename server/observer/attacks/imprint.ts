/**
 * Robbing the Fed's readout as an attack: the server planted an imprint block (scenario
 * server.behaviour "imprint") and hands its bin boundaries as `secrets`; every bin holding one
 * example gives it exactly, from one client's update or from the unmasked aggregate of a
 * secure-aggregation round alike (server/malicious/imprint-readout.ts). Returns at most
 * `observed.numExamples` images, without padding.
 */
import { modelFromDefinition } from '../../../shared/models/definition';
import type { ImprintSecrets } from '../../malicious/imprint';
import { imprintReadoutFromUpdate } from '../../malicious/imprint-readout';
import { examplesBehind, readoutOutput } from './planted-labels';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';
import { logitLayerProblem } from './model-problems';
import type { AttackDefinition, AttackInput, AttackOutput } from './types';

function imprintSecrets(input: AttackInput<unknown>): ImprintSecrets {
  const s = input.secrets as Partial<ImprintSecrets> | undefined;
  if (!s || s.kind !== 'imprint' || !Array.isArray(s.boundaries)) {
    throw new Error('imprint: no imprint secrets; this attack needs a server that planted the block (scenario server.behaviour "imprint")');
  }
  return s as ImprintSecrets;
}

export async function imprint(input: AttackInput<unknown>): Promise<AttackOutput> {
  const started = performance.now();
  const secrets = imprintSecrets(input);
  const model = modelFromDefinition(input.payload.model);
  const expected = examplesBehind(input);
  const read = imprintReadoutFromUpdate(input.observed.update, model.specs, secrets, { expected, pad: false });
  return readoutOutput(input, model, read, read.hits, started);
}

export const imprintAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'imprint',
  settings: builtinAttackEntry('imprint'),
  run: imprint,
  // Reads the planted block (modify-model) whose bin boundaries were fitted on public examples from
  // the clients' distribution (surrogate-data); labels and the batch size come from the training settings.
  requires: () => ['updates', 'architecture', 'hyperparameters', 'modify-model', 'surrogate-data'],
  modelProblem: (model) => logitLayerProblem(model, 'imprint'),
};
