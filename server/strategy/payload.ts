/** The round's ServerPayload and the `round.start` message that carries it: built only here. */
import type { ServerPayload, TrainingConfig } from '../../shared/contract';
import type { ModelDefinition } from '../../shared/models/definition';
import type { RoundStart } from '../../shared/wire';
import type { FederationConfig } from '../scenario/schema';

/** The public training config of a federation section. */
export function trainingConfig(f: FederationConfig): TrainingConfig {
  return {
    algorithm: f.algorithm,
    batchSize: f.batchSize,
    localSteps: f.localSteps,
    localEpochs: f.localEpochs,
    learningRate: f.learningRate,
  };
}

export function roundPayload(round: number, model: ModelDefinition, params: Float32Array, training: TrainingConfig): ServerPayload {
  return { round, model, params, training };
}

/** The broadcast of a payload; clients still build their model from `welcome` (wire protocol unchanged). */
export function roundStartMessage(payload: ServerPayload, timeoutMs: number): RoundStart {
  const t = payload.training;
  return {
    type: 'round.start',
    round: payload.round,
    algorithm: t.algorithm,
    learningRate: t.learningRate,
    batchSize: t.batchSize,
    localSteps: t.localSteps,
    localEpochs: t.localEpochs,
    timeoutMs,
    params: payload.params,
  };
}

/** The same `round.start` to every selected client. */
export function broadcastPlan(
  payload: ServerPayload,
  selected: readonly string[],
  timeoutMs: number,
): { payload: ServerPayload; instructions: Array<{ clientId: string; message: RoundStart }> } {
  const message = roundStartMessage(payload, timeoutMs);
  return { payload, instructions: selected.map((clientId) => ({ clientId, message })) };
}
