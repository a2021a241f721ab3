/**
 * The release step of a run, for the integrator to call after the last round: save the final
 * global model into `<run>/release/`, serve it (release.api), run release.attacks[] against it and
 * return the `release` section of results.json. Black-box attacks go through the real HTTP API
 * with their own key, so the monitor and rate limits of release.api apply to them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../../shared/data';
import type { Normalization } from '../../shared/data/normalize';
import { buildModel, type Model } from '../../shared/models';
import type { ModelConfig } from '../../shared/models/schema';
import { startPredictionApi, type PredictionApi } from './api';
import { generateKey, keyId, loadOrCreateKeys } from './keys';
import { RELEASE_DIR, saveReleasedModel } from './model-file';
import { runMiFaceAttack } from './run-attack';
import { trainEvaluator, type Evaluator } from './score';
import { sendBenignTraffic } from './benign';
import { PredictClient } from './client';
import { maskingLabel, type ApiConfig, type ReleaseAttackRecord, type ReleaseConfig, type ReleaseResults } from './schema';

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
  /** The scenario's data.normalize: the released model starts with it, as the federated model did. */
  normalize?: Normalization;
  log?: (line: string) => void;
}

export interface ReleaseOutcome {
  results: ReleaseResults;
  /** The API when release.api.enabled (still listening: the caller closes it), else null. Attacks use instances of their own. */
  api: PredictionApi | null;
}

/** Evaluators by held-out set (the memoised split object of the run's data) and settings: sweep variants share their split, so they share one evaluator. */
const evaluators = new WeakMap<Dataset, Map<string, Evaluator>>();

function evaluatorFor(o: RunReleaseOptions): Evaluator {
  const key = JSON.stringify([o.config.evaluator, o.seed, o.train.labels.length]);
  const byConfig = evaluators.get(o.heldOut) ?? new Map<string, Evaluator>();
  evaluators.set(o.heldOut, byConfig);
  const cached = byConfig.get(key);
  if (cached) return cached;
  const trained = trainEvaluator(o.heldOut, o.train, o.config.evaluator, o.seed);
  byConfig.set(key, trained);
  return trained;
}

/** An API instance of its own for one attacker (or the benign client), with a fresh key: its monitor sees only that key. */
async function privateApi(
  o: RunReleaseOptions,
  model: Model,
  config: ApiConfig,
  monitorLog: string,
): Promise<{ api: PredictionApi; key: string }> {
  const key = generateKey();
  const api = await startPredictionApi({
    model,
    params: o.params,
    config,
    keys: [key],
    onFlag: (f) => fs.appendFileSync(monitorLog, `${JSON.stringify(f)}\n`),
  });
  return { api, key };
}

async function runAttacks(
  o: RunReleaseOptions,
  model: Model,
  evaluator: Evaluator,
  monitorLog: string,
  log: (line: string) => void,
): Promise<ReleaseAttackRecord[]> {
  const records: ReleaseAttackRecord[] = [];
  for (const attack of o.config.attacks) {
    const target = { model, params: o.params };
    const base = { config: attack, target, evaluator, train: o.train, outDir: o.runDir, seed: o.seed };
    let record: ReleaseAttackRecord;
    if (attack.access === 'white-box') record = await runMiFaceAttack({ ...base, access: { kind: 'white-box' } });
    else {
      // The attacker's own key on an instance with release.api's limits and monitor (and the attack's masking).
      const config = { ...o.config.api, masking: attack.masking ?? o.config.api.masking };
      const { api, key } = await privateApi(o, model, config, monitorLog);
      try {
        const access = {
          kind: 'black-box',
          url: api.url,
          key,
          masking: maskingLabel(config.masking),
          flag: () => api.monitor.flagOf(keyId(key)),
        } as const;
        record = await runMiFaceAttack({ ...base, access });
      } finally {
        await api.close();
      }
    }
    log(
      `release: mi-face ${record.access} (${record.masking}): class accuracy ${(100 * record.classAccuracy).toFixed(0)} %, ${record.queries} queries`,
    );
    records.push(record);
  }
  return records;
}

/** The monitor's false positives: release.benignQueries held-out examples from a key of their own. */
async function benignMonitor(
  o: RunReleaseOptions,
  model: Model,
  monitorLog: string,
): Promise<{ benignQueries: number; benignFlagged: number }> {
  const { api, key } = await privateApi(o, model, o.config.api, monitorLog);
  try {
    const sent = await sendBenignTraffic({
      client: new PredictClient(api.url, key),
      examples: o.heldOut,
      count: o.config.benignQueries,
      seed: o.seed,
    });
    return { benignQueries: sent, benignFlagged: api.monitor.flagOf(keyId(key)) ? 1 : 0 };
  } finally {
    await api.close();
  }
}

export async function runRelease(o: RunReleaseOptions): Promise<ReleaseOutcome> {
  const log = o.log ?? (() => {});
  const model = buildModel(o.modelConfig, o.train.shape, o.train.numClasses, o.normalize);
  saveReleasedModel(o.runDir, o.modelConfig, o.train.shape, o.train.numClasses, o.params, {
    testAccuracy: o.testAccuracy,
    ...(o.normalize ? { normalize: o.normalize } : {}),
  });
  const monitorLog = path.join(o.runDir, RELEASE_DIR, 'monitor.log');
  let api: PredictionApi | null = null;
  if (o.config.api.enabled) {
    const keysFile = path.join(o.runDir, RELEASE_DIR, 'api-keys.json');
    const keys = loadOrCreateKeys(keysFile, o.config.api.keys).keys.map((k) => k.key);
    api = await startPredictionApi({
      model,
      params: o.params,
      config: o.config.api,
      keys,
      onFlag: (f) => fs.appendFileSync(monitorLog, `${JSON.stringify(f)}\n`),
    });
    log(`release: model served on ${api.url}/v1/predict until the run ends, keys in ${keysFile}`);
  }
  try {
    const evaluator = o.config.attacks.length > 0 ? evaluatorFor(o) : null;
    const attacks = evaluator ? await runAttacks(o, model, evaluator, monitorLog, log) : [];
    const monitor = o.config.benignQueries > 0 ? await benignMonitor(o, model, monitorLog) : null;
    const results: ReleaseResults = {
      model: { name: model.name, testAccuracy: o.testAccuracy, params: o.params.length },
      evaluator: { testAccuracy: evaluator?.testAccuracy ?? 0, trainedOn: evaluator?.trainedOn ?? 0 },
      attacks,
      ...(monitor ? { monitor } : {}),
    };
    return { results, api };
  } catch (err) {
    await api?.close();
    throw err;
  }
}
