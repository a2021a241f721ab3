/**
 * Attack trials on real MNIST digits with the client's update made in-process exactly as a client
 * makes it: trial seed k initialises the model with Rng(k).fork('model') and draws the digits with
 * Rng(k).fork('batch'). Shared by the full-strength evaluation (attack-eval-ig.ts) and
 * `fedleak bench --only ig` and the attack tests.
 */
import { tf } from '../../shared/tensor/tf';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../../shared/models';
import { attackSchema, modelSchema, type AttackConfig, type ModelConfig } from '../../server/scenario/schema';
import { Rng } from '../../shared/random';
import type { Dataset } from '../../shared/data';
import { simulatedUpdate } from '../../server/observer/attacks/inverting-gradients';
import type { AttackInput } from '../../server/observer/attacks/types';

export const MNIST_SHAPE: [number, number, number] = [28, 28, 1];
const SIZE = 28 * 28;

export interface TrialCase {
  model: ModelConfig;
  steps: number;
  batchSize: number;
  kind: AttackInput['updateKind'];
  attackName: 'inverting-gradients' | 'analytic';
}

export const TRIAL_CASES = {
  'ig-fedsgd': { model: modelSchema.parse({ name: 'lenet-zhu' }), steps: 1, batchSize: 4, kind: 'gradient', attackName: 'inverting-gradients' },
  'ig-fedavg': { model: modelSchema.parse({ name: 'lenet-zhu' }), steps: 2, batchSize: 2, kind: 'weight-delta', attackName: 'inverting-gradients' },
  analytic: { model: modelSchema.parse({ name: 'mlp', hidden: [200], activation: 'relu' }), steps: 1, batchSize: 1, kind: 'gradient', attackName: 'analytic' },
} satisfies Record<string, TrialCase>;
export type TrialCaseName = keyof typeof TRIAL_CASES;

export function pickExamples(ds: Dataset, rng: Rng, n: number): { images: Float32Array; labels: number[] } {
  const idx = rng.sample(ds.labels.length, n);
  const images = new Float32Array(n * SIZE);
  idx.forEach((i, k) => images.set(ds.images.subarray(i * SIZE, (i + 1) * SIZE), k * SIZE));
  return { images, labels: idx.map((i) => ds.labels[i]) };
}

/** The client's update for these examples: step s trains on examples [s·B, (s+1)·B). */
export function clientUpdate(c: TrialCase, globalParams: Float32Array, images: Float32Array, labels: number[], lr: number): Float32Array {
  const model = buildModel(c.model, MNIST_SHAPE, 10);
  const params = unflattenParams(globalParams, model.specs);
  const n = labels.length;
  const update = tf.tidy(() => {
    const targets = Array.from({ length: c.steps }, (_, s) => oneHot(labels.slice(s * c.batchSize, (s + 1) * c.batchSize), 10));
    const u = simulatedUpdate(model, params, tf.tensor4d(images, [n, ...MNIST_SHAPE]), targets, { steps: c.steps, batchSize: c.batchSize, learningRate: lr }, c.kind);
    return flattenParams(u, model.specs);
  });
  tf.dispose(params);
  return update;
}

export interface Trial {
  input: AttackInput;
  /** The true batch, for scoring only. */
  images: Float32Array;
  labels: number[];
}

/** Trial `seed` of a case (built-in or any): model, digits, the client's update (client lr `lr`) and the attack input. */
export function makeTrial(which: TrialCaseName | TrialCase, seed: number, ds: Dataset, lr: number, attack: Partial<AttackConfig>): Trial {
  const c: TrialCase = typeof which === 'string' ? TRIAL_CASES[which] : which;
  const rng = new Rng(seed);
  const model = buildModel(c.model, MNIST_SHAPE, 10);
  const globalParams = model.initParams(rng.fork('model'));
  const n = c.steps * c.batchSize;
  const { images, labels } = pickExamples(ds, rng.fork('batch'), n);
  const update = clientUpdate(c, globalParams, images, labels, lr);
  const input: AttackInput = {
    model: { config: c.model, inputShape: MNIST_SHAPE, numClasses: 10 },
    globalParams,
    update,
    updateKind: c.kind,
    training: { algorithm: c.kind === 'gradient' ? 'fedsgd' : 'fedavg', batchSize: c.batchSize, localSteps: c.steps, learningRate: lr, localEpochs: 0 },
    numExamples: n,
    attack: attackSchema.parse({ ...attack, name: c.attackName }),
    seed,
  };
  return { input, images, labels };
}
