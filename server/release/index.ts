/**
 * The release step of a run, for the integrator to call after the last round: save the final
 * global model into `<run>/release/`, serve it (release.api), run release.attacks[] against it and
 * return the `release` section of results.json. Black-box attacks go through the real HTTP API
 * with their own key, so the monitor and rate limits of release.api apply to them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../../shared/data';
import { buildModel } from '../../shared/models';
import type { ModelConfig } from '../../shared/models/schema';
import { startPredictionApi, type PredictionApi } from './api';
import { generateKey, keyId, loadOrCreateKeys } from './keys';
import { RELEASE_DIR, saveReleasedModel } from './model-file';
import { runMiFaceAttack } from './run-attack';
import { trainEvaluator } from './score';
import { maskingLabel, type ReleaseAttackRecord, type ReleaseConfig, type ReleaseResults } from './schema';

export * from './schema';
export { startPredictionApi, type PredictionApi } from './api';
export { loadReleasedModel, saveReleasedModel } from './model-file';

export interface RunReleaseOptions {
  runDir: string;
  config: ReleaseConfig;
  modelConfig: ModelConfig;
  params: Float32Array;
  /** The federation's training data (all clients' shards) and the server's held-out test set. */
  train: Dataset;
  heldOut: Dataset;
  testAccuracy: number;
  seed: number;
  log?: (line: string) => void;
}

export interface ReleaseOutcome {
  results: ReleaseResults;
  /** The API when release.api.enabled (still listening: the caller closes it), else null. */
  api: PredictionApi | null;
}

export async function runRelease(o: RunReleaseOptions): Promise<ReleaseOutcome> {
  const log = o.log ?? (() => {});
  const model = buildModel(o.modelConfig, o.train.shape, o.train.numClasses);
  saveReleasedModel(o.runDir, o.modelConfig, o.train.shape, o.train.numClasses, o.params, { testAccuracy: o.testAccuracy });
  const keysFile = path.join(o.runDir, RELEASE_DIR, 'api-keys.json');
  const userKeys = loadOrCreateKeys(keysFile, o.config.api.keys).keys.map((k) => k.key);
  // The attacker's own key: never written to the key file, so it dies with this process.
  const attackerKey = generateKey();
  const monitorLog = path.join(o.runDir, RELEASE_DIR, 'monitor.log');
  const api = await startPredictionApi({
    model, params: o.params, config: o.config.api, keys: [...userKeys, attackerKey],
    onFlag: (f) => fs.appendFileSync(monitorLog, `${JSON.stringify(f)}\n`),
  });
  log(`release: model served on ${api.url}/v1/predict, keys in ${keysFile}`);
  const attacks: ReleaseAttackRecord[] = [];
  const evaluator = o.config.attacks.length > 0 ? trainEvaluator(o.heldOut, o.train, o.config.evaluator, o.seed) : null;
  for (const attack of o.config.attacks) {
    if (!evaluator) break;
    const access =
      attack.access === 'white-box'
        ? ({ kind: 'white-box' } as const)
        : ({ kind: 'black-box', url: api.url, key: attackerKey, masking: maskingLabel(o.config.api.masking), flag: () => api.monitor.flagOf(keyId(attackerKey)) } as const);
    const record = await runMiFaceAttack({ config: attack, target: { model, params: o.params }, access, evaluator, train: o.train, outDir: o.runDir, seed: o.seed });
    log(`release: mi-face ${record.access} (${record.masking}): class accuracy ${(100 * record.classAccuracy).toFixed(0)} %, ${record.queries} queries`);
    attacks.push(record);
  }
  const results: ReleaseResults = {
    model: { name: model.name, testAccuracy: o.testAccuracy, params: o.params.length },
    evaluator: { testAccuracy: evaluator?.testAccuracy ?? 0, trainedOn: evaluator?.trainedOn ?? 0 },
    attacks,
  };
  if (o.config.api.enabled) return { results, api };
  await api.close();
  return { results, api: null };
}
