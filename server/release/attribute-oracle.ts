/**
 * Where the attribute-inference attacker's answers come from: the released parameters evaluated
 * locally (white-box, unmasked) or the prediction API over HTTP (black-box, masked as the API masks,
 * every input counted by the protocol client).
 */
import { tf, type Tensor4D } from '../../shared/tensor/tf';
import { INFERENCE_FORWARD, unflattenParams } from '../../shared/models';
import { PredictClient, type PredictOutput } from './client';
import { maskScores } from './masking';
import { parseMasking, type Masking } from './schema';
import type { ReleasedTarget } from './run-attack';

export interface AnswerOracle {
  /** The masking the answers carry (black-box: as the API announces it on /v1/model). */
  masking(): Promise<Masking>;
  /** One answer per example of a flat NHWC batch. */
  answer(values: Float32Array, count: number): Promise<PredictOutput[]>;
}

const LOCAL_BATCH = 1024;

/** Softmax probabilities of the released model, count × classes. */
export function localProbabilities(target: ReleasedTarget, values: Float32Array, count: number): Float32Array {
  const { model } = target;
  const size = values.length / count;
  const classes = model.numClasses;
  const out = new Float32Array(count * classes);
  const params = unflattenParams(target.params, model.specs);
  try {
    for (let start = 0; start < count; start += LOCAL_BATCH) {
      const n = Math.min(LOCAL_BATCH, count - start);
      const slice = values.subarray(start * size, (start + n) * size);
      const probs = tf.tidy(() =>
        tf.softmax(model.apply(params, tf.tensor4d(slice, [n, ...model.inputShape]) as Tensor4D, INFERENCE_FORWARD)),
      );
      out.set(probs.dataSync(), start * classes);
      probs.dispose();
    }
  } finally {
    params.forEach((t) => t.dispose());
  }
  return out;
}

export class LocalOracle implements AnswerOracle {
  constructor(private readonly target: ReleasedTarget) {}

  masking(): Promise<Masking> {
    return Promise.resolve({ mode: 'full' });
  }

  answer(values: Float32Array, count: number): Promise<PredictOutput[]> {
    const classes = this.target.model.numClasses;
    const probs = localProbabilities(this.target, values, count);
    return Promise.resolve(
      Array.from({ length: count }, (_, i) => maskScores(probs.subarray(i * classes, (i + 1) * classes), { mode: 'full' })),
    );
  }
}

export class ApiOracle implements AnswerOracle {
  constructor(readonly client: PredictClient) {}

  async masking(): Promise<Masking> {
    return parseMasking((await this.client.modelInfo()).masking);
  }

  answer(values: Float32Array, count: number): Promise<PredictOutput[]> {
    return this.client.predict(values, count);
  }
}
