/**
 * The release step of `fedleak run`: after the last round, the final global model goes behind the
 * prediction API and release.attacks[] run against it (server/release, docs/release.md). Kept out
 * of server/run/index.ts so the run loop only calls it and closes what it returns.
 */
import { prepareFederatedData } from '../../shared/data';
import { runRelease, type PredictionApi, type ReleaseResults } from '../release';
import type { RoundRecord } from '../report/results';
import type { Scenario } from '../scenario/schema';

export interface ReleaseStepResult {
  results: ReleaseResults;
  /** The served API (release.api.enabled): the run closes it when it ends. */
  api: PredictionApi | null;
}

/** Null when the scenario has no `release` section. */
export async function releaseStep(
  scenario: Scenario,
  outDir: string,
  finalParams: Float32Array,
  rounds: readonly RoundRecord[],
  log: (line: string) => void,
): Promise<ReleaseStepResult | null> {
  if (!scenario.release) return null;
  // The same split the clients and the coordinator built (memoised, seeded): every client's shard, and the held-out set.
  const data = prepareFederatedData(scenario.data, scenario.federation.clients, scenario.seed);
  const last = rounds[rounds.length - 1];
  const { results, api } = await runRelease({
    runDir: outDir,
    config: scenario.release,
    modelConfig: scenario.model,
    params: finalParams,
    train: data.train,
    heldOut: data.test,
    data: scenario.data,
    testAccuracy: last ? last.testAccuracy : NaN,
    seed: scenario.seed,
    ...(scenario.data.normalize ? { normalize: scenario.data.normalize } : {}),
    log,
  });
  return { results, api };
}
