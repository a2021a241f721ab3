/** The ObservedUpdate of an accepted plain update, as received. */
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import { updateKindFor } from '../../shared/training';
import type { AcceptedUpdate } from './types';

export function plainView(u: AcceptedUpdate, payload: ServerPayload, update: Float32Array = u.update): ObservedUpdate {
  return {
    round: u.round,
    sender: u.clientId,
    kind: updateKindFor(payload.training.algorithm),
    numExamples: u.numExamples,
    update,
    view: 'plain',
    bytes: u.frameBytes,
  };
}
