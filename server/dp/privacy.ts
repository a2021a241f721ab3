/**
 * The per-round `privacy` entry of results.json for a run with DP-FedAvg: ε spent so far by the
 * RDP accountant, with clients sampled at rate q = clientsPerRound / clients and one step per round.
 */
import type { PrivacyRecord } from '../report/results';
import type { DpConfig } from '../scenario/schema';
import { computeEpsilon } from './rdp-accountant';

export function privacyAfterRounds(dp: DpConfig, sampleRate: number, rounds: number): PrivacyRecord {
  // z = 0 adds no noise: there is no finite guarantee (JSON shows epsilon as null).
  const epsilon = dp.noiseMultiplier === 0 ? Infinity : computeEpsilon(dp.noiseMultiplier, sampleRate, rounds, dp.delta).epsilon;
  return { epsilon, delta: dp.delta, noiseMultiplier: dp.noiseMultiplier, sampleRate, steps: rounds };
}
