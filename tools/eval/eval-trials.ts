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
import type { AttackInput, UpdateKind } from '../../server/observer/attacks/types';
import { attackInput } from '../../server/observer/attack-input';
import { definitionFor } from '../../shared/models/definition';
import type { ImageShape } from '../../shared/models/types';
import type { ObservedUpdate, ServerPayload, TrainingConfig } from '../../shared/contract';

export const MNIST_SHAPE: [number, number, number] = [28, 28, 1];
const SIZE = 28 * 28;

export interface TrialCase {
  model: ModelConfig;
  steps: number;
  batchSize: number;
  kind: UpdateKind;
  attackName: 'inverting-gradients' | 'analytic';
}

export const TRIAL_CASES = {
  'ig-fedsgd': {
    model: modelSchema.parse({ name: 'lenet-zhu' }),
    steps: 1,
    batchSize: 4,
    kind: 'gradient',
    attackName: 'inverting-gradients',
  },
  'ig-fedavg': {
    model: modelSchema.parse({ name: 'lenet-zhu' }),
    steps: 2,
    batchSize: 2,
    kind: 'weight-delta',
    attackName: 'inverting-gradients',
  },
  analytic: {
    model: modelSchema.parse({ name: 'mlp', hidden: [200], activation: 'relu' }),
    steps: 1,
    batchSize: 1,
    kind: 'gradient',
    attackName: 'analytic',
  },
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
    const u = simulatedUpdate(
      model,
      params,
      tf.tensor4d(images, [n, ...MNIST_SHAPE]),
      targets,
      { steps: c.steps, batchSize: c.batchSize, learningRate: lr },
      c.kind,
    );
    return flattenParams(u, model.specs);
  });
  tf.dispose(params);
  return update;
}

/** An in-process client's update as the server would have it: the two contract records of round 1. */
export interface SimulatedRound {
  model: ModelConfig;
  inputShape: ImageShape;
  numClasses: number;
  globalParams: Float32Array;
  update: Float32Array;
  kind: UpdateKind;
  training: TrainingConfig;
  numExamples: number;
  /** Default "c0". */
  sender?: string;
}

export function simulatedObservation(r: SimulatedRound): { observed: ObservedUpdate; payload: ServerPayload } {
  const payload: ServerPayload = {
    round: 1,
    model: definitionFor(r.model, r.inputShape, r.numClasses),
    params: r.globalParams,
    training: r.training,
  };
  const observed: ObservedUpdate = {
    round: 1,
    sender: r.sender ?? 'c0',
    kind: r.kind,
    numExamples: r.numExamples,
    update: r.update,
    view: 'plain',
    bytes: 0,
  };
  return { observed, payload };
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
  const training: TrainingConfig = {
    algorithm: c.kind === 'gradient' ? 'fedsgd' : 'fedavg',
    batchSize: c.batchSize,
    localSteps: c.steps,
    learningRate: lr,
    localEpochs: 0,
  };
  const { observed, payload } = simulatedObservation({
    model: c.model,
    inputShape: MNIST_SHAPE,
    numClasses: 10,
    globalParams,
    update,
    kind: c.kind,
    training,
    numExamples: n,
  });
  const input = attackInput(observed, payload, { settings: attackSchema.parse({ ...attack, name: c.attackName }), seed });
  return { input, images, labels };
}
