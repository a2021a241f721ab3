/**
 * The one place attack inputs are built: from what the server received (ObservedUpdate) and what
 * it had sent for that round (ServerPayload). The live observer, `fedleak attack --capture`, the
 * evaluation tools and the tests all come through here, so every attack sees the same shape.
 */
import type { AttackSecrets, ObservedUpdate, ServerPayload } from '../../shared/contract';
import { Rng } from '../../shared/random';
import type { AttackInput } from './attacks/types';

export interface AttackInputOptions<Settings> {
  settings: Settings;
  seed: number;
  secrets?: AttackSecrets;
}

export function attackInput<Settings>(
  observed: ObservedUpdate,
  payload: ServerPayload,
  options: AttackInputOptions<Settings>,
): AttackInput<Settings> {
  if (observed.round !== payload.round) {
    throw new Error(`attack input: the update is from round ${observed.round} but the payload is round ${payload.round}'s`);
  }
  if (observed.update.length !== payload.params.length) {
    throw new Error(`attack input: the update has ${observed.update.length} values but the round's parameters ${payload.params.length}`);
  }
  return {
    observed,
    payload,
    settings: options.settings,
    seed: options.seed,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  };
}

/**
 * Seed of the attack on (round, sender, view): a fork of the scenario seed, independent per target.
 * The live observer and `fedleak attack --capture` (by default) use it, so both reconstruct alike.
 */
export function attackSeed(scenarioSeed: number, round: number, target: string, view: string): number {
  return new Rng(scenarioSeed).fork(`attack/${round}/${target}/${view}`).nextUint32();
}
