/**
 * Secure aggregation as the last client mod: instead of passing the update on to be sent in the
 * clear, it hands it to this round's secure-aggregation protocol (client/secagg/session.ts), which
 * sends only masked values in answer to the server's `secagg.*` requests.
 */
import type { Rng } from '../../shared/random';
import type { ClientMod } from '../mods/types';
import type { ClientSecAgg } from './session';

/** `rngFor(round)`: the client's seeded secure-aggregation stream for that round. */
export function secAggMod(secagg: ClientSecAgg, rngFor: (round: number) => Rng): ClientMod {
  return (update) => secagg.begin(update.round, update.values, update.numExamples, rngFor(update.round));
}
