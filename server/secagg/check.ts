/**
 * Scenario-level checks for secure aggregation, run before any client starts, so that a setting that
 * cannot work fails at once with the field named rather than rounds later.
 */
import { ScenarioError } from '../scenario/load';
import type { Scenario } from '../scenario/schema';
import { MODULUS } from '../../shared/secagg/quantize';
import { MAX_SHARES } from '../../shared/secagg/shamir';

export function checkSecureAggregationScenario(scenario: Scenario): void {
  const sa = scenario.defenses.secureAggregation;
  if (!sa) return;
  const f = scenario.federation;
  const cohort = Math.min(f.clients, f.clientsPerRound);
  const where = 'defenses.secureAggregation';
  if (scenario.defenses.dp) {
    throw new ScenarioError(
      `${where} and defenses.dp cannot be combined: server-side DP-FedAvg clips each client's update, which secure aggregation hides from the server`,
    );
  }
  if (cohort > MAX_SHARES)
    throw new ScenarioError(`${where}: ${cohort} clients per round; Shamir sharing over GF(2^8) allows at most ${MAX_SHARES}`);
  if (cohort * sa.quantizationRange >= MODULUS) {
    throw new ScenarioError(
      `${where}.quantizationRange ${sa.quantizationRange} × ${cohort} clients ≥ 2^32: the masked sum could wrap; ` +
        `use quantizationRange ≤ ${Math.floor((MODULUS - 1) / cohort)}`,
    );
  }
  if (sa.threshold > 1 && (!Number.isInteger(sa.threshold) || sa.threshold > cohort)) {
    throw new ScenarioError(
      `${where}.threshold ${sa.threshold}: a count must be a whole number of clients ≤ the ${cohort} per round (or give a fraction ≤ 1)`,
    );
  }
  sa.dropouts.forEach((d, i) => {
    const m = /^c(\d+)$/.exec(d.client);
    if (!m || Number(m[1]) >= f.clients) {
      throw new ScenarioError(`${where}.dropouts[${i}].client "${d.client}": no such client (ids are c0 … c${f.clients - 1})`);
    }
    if (d.round !== undefined && d.round > f.rounds) {
      throw new ScenarioError(`${where}.dropouts[${i}].round ${d.round}: the scenario has ${f.rounds} round(s)`);
    }
  });
}
