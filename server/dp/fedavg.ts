/** DP-FedAvg's accounting input: the per-round sampling rate (the wrapper is server/strategy/dp-fedavg.ts). */
import type { Scenario } from '../scenario/schema';

/** q = clientsPerRound / clients, the per-round sampling rate the accountant assumes. */
export function dpSampleRate(scenario: Scenario): number {
  return scenario.federation.clientsPerRound / scenario.federation.clients;
}
