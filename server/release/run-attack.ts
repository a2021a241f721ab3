/**
 * Runs one `release.attacks[]` entry against a released model and makes its results record.
 * White-box needs the parameters; black-box only a protocol client (URL + key). Scoring needs
 * what only the auditor has: the evaluator, the training split, and the unmasked target model.
 */
import * as path from 'node:path';
import { tf, type Tensor4D } from '../../shared/tensor/tf';
import { INFERENCE_FORWARD, unflattenParams, type Model } from '../../shared/models';
import type { Dataset } from '../../shared/data';
import { miFace, type ConfidenceOracle, type InversionResult } from './mi-face';
import { BlackBoxOracle, WhiteBoxOracle } from './oracles';
import { apiTraffic, PredictClient } from './client';
import type { MonitorFlag } from './monitor';
import { classAccuracy, scoreInversions, writeInversionGrid, type Evaluator } from './score';
import type { MiFaceAttackRecord, MiFaceConfig } from './schema';

export interface ReleasedTarget {
  model: Model;
  params: Float32Array;
}

export type Access =
  { kind: 'white-box' } | { kind: 'black-box'; url: string; key: string; masking: string; flag?: () => MonitorFlag | null };

export interface AttackRunOptions {
  config: MiFaceConfig;
  target: ReleasedTarget;
  access: Access;
  evaluator: Evaluator;
  train: Dataset;
  /** Run folder for the PNG (image path recorded relative to it), or null for none. */
  outDir: string | null;
  seed?: number;
  compareLimit?: number;
  onClass?: (r: InversionResult) => void;
}

/** The target model's unmasked probability of each inversion's own label. */
export function trueConfidences(target: ReleasedTarget, inversions: readonly InversionResult[]): number[] {
  const { model } = target;
  const params = unflattenParams(target.params, model.specs);
  const size = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
  const flat = new Float32Array(inversions.length * size);
  inversions.forEach((r, i) => flat.set(r.image, i * size));
  const probs = tf.tidy(() =>
    tf.softmax(model.apply(params, tf.tensor4d(flat, [inversions.length, ...model.inputShape]) as Tensor4D, INFERENCE_FORWARD)),
  );
  const values = probs.dataSync();
  probs.dispose();
  params.forEach((t) => t.dispose());
  return inversions.map((r, i) => values[i * model.numClasses + r.label]);
}

export async function runMiFaceAttack(opts: AttackRunOptions): Promise<MiFaceAttackRecord> {
  const { config, target, access } = opts;
  const size = target.model.inputShape.reduce((a, b) => a * b, 1);
  const labels = config.classes ?? Array.from({ length: target.model.numClasses }, (_, i) => i);
  const client = access.kind === 'black-box' ? new PredictClient(access.url, access.key) : null;
  const oracle: ConfidenceOracle = client
    ? new BlackBoxOracle(client, config.estimator, opts.seed ?? 0)
    : new WhiteBoxOracle(target.model, target.params);
  const started = performance.now();
  const inversions = await miFace(oracle, labels, size, config, opts.onClass);
  const seconds = (performance.now() - started) / 1000;
  if (oracle instanceof WhiteBoxOracle) oracle.dispose();
  const perClass = scoreInversions(inversions, trueConfidences(target, inversions), opts.evaluator, opts.train, opts.compareLimit ?? 0);
  const masking = access.kind === 'black-box' ? access.masking : 'full';
  const flag = access.kind === 'black-box' && access.flag ? access.flag() : null;
  const record: MiFaceAttackRecord = {
    attack: 'mi-face',
    access: access.kind,
    masking,
    classAccuracy: classAccuracy(perClass),
    perClass,
    ...apiTraffic(client, flag),
    seconds,
  };
  if (opts.outDir) {
    const image = `release/mi-face-${access.kind}-${masking}.png`;
    writeInversionGrid(path.join(opts.outDir, image), inversions, perClass, opts.train);
    record.image = image;
  }
  return record;
}
