/**
 * The release step of a run, for the integrator to call after the last round: save the final
 * global model into `<run>/release/`, serve it (release.api), run release.attacks[] against it and
 * return the `release` section of results.json. Black-box attacks go through the real HTTP API
 * with their own key, so the monitor and rate limits of release.api apply to them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../../shared/data';
import type { DataConfig } from '../../shared/data/schema';
import type { Normalization } from '../../shared/data/normalize';
import { buildModel, type Model } from '../../shared/models';
import type { ModelConfig } from '../../shared/models/schema';
import { startPredictionApi, type PredictionApi } from './api';
import { generateKey, keyId, loadOrCreateKeys } from './keys';
import { RELEASE_DIR, saveReleasedModel } from './model-file';
import { runMiFaceAttack } from './run-attack';
import { runAttributeInference } from './attribute-run';
import { trainEvaluator, type Evaluator } from './score';
import { sendBenignTraffic } from './benign';
import { PredictClient } from './client';
import {
  maskingLabel,
  type ApiConfig,
  type AttributeInferenceConfig,
  type MiFaceConfig,
  type ReleaseAttackRecord,
  type ReleaseConfig,
  type ReleaseResults,
} from './schema';

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
  /** The scenario's data section: attribute inference reads the CSV columns from it (required for that attack). */
  data?: DataConfig;
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

/** An API instance of its own for one attacker (or the benign client), with fresh keys: its monitor sees only that key. */
async function privateApi(
  o: RunReleaseOptions,
  model: Model,
  config: ApiConfig,
  monitorLog: string,
  extraKeys: string[] = [],
): Promise<{ api: PredictionApi; key: string }> {
  const key = generateKey();
  const api = await startPredictionApi({
    model,
    params: o.params,
    config,
    keys: [key, ...extraKeys],
    onFlag: (f) => fs.appendFileSync(monitorLog, `${JSON.stringify(f)}\n`),
  });
  return { api, key };
}

interface AttackEnv {
  o: RunReleaseOptions;
  model: Model;
  /** Null when no mi-face attack needs one. */
  evaluator: Evaluator | null;
  monitorLog: string;
}

async function miFaceRecord(env: AttackEnv, attack: MiFaceConfig): Promise<ReleaseAttackRecord> {
  const { o, model, monitorLog } = env;
  const evaluator = env.evaluator as Evaluator;
  const target = { model, params: o.params };
  const base = { config: attack, target, evaluator, train: o.train, outDir: o.runDir, seed: o.seed };
  if (attack.access === 'white-box') return runMiFaceAttack({ ...base, access: { kind: 'white-box' } });
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
    return await runMiFaceAttack({ ...base, access });
  } finally {
    await api.close();
  }
}

async function attributeRecord(env: AttackEnv, attack: AttributeInferenceConfig): Promise<ReleaseAttackRecord> {
  const { o, model, monitorLog } = env;
  if (!o.data) throw new Error("release: attribute-inference needs the scenario's data section (RunReleaseOptions.data)");
  const base = { config: attack, target: { model, params: o.params }, data: o.data, train: o.train, heldOut: o.heldOut, seed: o.seed };
  if (attack.access === 'white-box') return runAttributeInference({ ...base, access: { kind: 'white-box' } });
  // The targets' own key fetches their real answers; the monitor watches the attacker's key apart.
  const victimKey = generateKey();
  const config = { ...o.config.api, masking: attack.masking ?? o.config.api.masking };
  const { api, key } = await privateApi(o, model, config, monitorLog, [victimKey]);
  try {
    const access = { kind: 'black-box', url: api.url, key, victimKey, flag: () => api.monitor.flagOf(keyId(key)) } as const;
    return await runAttributeInference({ ...base, access });
  } finally {
    await api.close();
  }
}

function describeRecord(r: ReleaseAttackRecord): string {
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
  if (r.attack === 'mi-face')
    return `release: mi-face ${r.access} (${r.masking}): class accuracy ${pct(r.classAccuracy)}, ${r.queries} queries`;
  return (
    `release: attribute-inference of "${r.sensitive}" ${r.access} (${r.masking}, evidence ${r.evidence}): ` +
    `${pct(r.attributeAccuracy)} vs prior baseline ${pct(r.baselineAccuracy)} over ${r.records} records, ${r.queries} queries`
  );
}

async function runAttacks(env: AttackEnv, log: (line: string) => void): Promise<ReleaseAttackRecord[]> {
  const records: ReleaseAttackRecord[] = [];
  for (const attack of env.o.config.attacks) {
    const record = attack.name === 'mi-face' ? await miFaceRecord(env, attack) : await attributeRecord(env, attack);
    log(describeRecord(record));
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
    // Only MI-FACE is scored by the evaluator; attribute inference needs none.
    const evaluator = o.config.attacks.some((a) => a.name === 'mi-face') ? evaluatorFor(o) : null;
    const attacks = await runAttacks({ o, model, evaluator, monitorLog }, log);
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
