/**
 * The one place attack inputs are built: from what the server received (ObservedUpdate) and what
 * it had sent for that round (ServerPayload). The live observer, `fedleak attack --capture`, the
 * evaluation tools and the tests all come through here, so every attack sees the same shape.
 */
import type { AttackSecrets, ObservedUpdate, ServerPayload } from '../../shared/contract';
import { Rng } from '../../shared/random';
import { stateParamsOf } from '../../shared/models';
import { observedBatchStatistics } from './batch-statistics';
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
  const batchStatistics = observedBatchStatistics(observed, payload);
  return {
    observed: withoutState(observed, payload),
    ...(batchStatistics ? { batchStatistics } : {}),
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

/**
 * Batch norm's moving statistics travel in the update as state, not gradient (client/train.ts); a
 * gradient-matching objective would chase them, so attacks see them as zero. What they reveal, the
 * batch's per-channel mean and variance, comes separately as `batchStatistics`.
 */
function withoutState(observed: ObservedUpdate, payload: ServerPayload): ObservedUpdate {
  const state = stateParamsOf(payload.model);
  if (state.length === 0) return observed;
  const update = observed.update.slice();
  let offset = 0;
  const isState = new Set(state);
  payload.model.params.forEach((p, i) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (isState.has(i)) update.fill(0, offset, offset + size);
    offset += size;
  });
  return { ...observed, update };
}
