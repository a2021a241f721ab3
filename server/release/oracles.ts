/**
 * The two kinds of access MI-FACE can have to a released model.
 *
 * white-box: the parameters; ∇(1 − p_label) by automatic differentiation.
 * black-box: the prediction API only. The gradient is estimated from confidence queries along
 * random Gaussian directions u_j (Fredrikson's finite differences, in the random-direction form of
 * natural-evolution-strategies estimators):
 *   forward:     ĝ = (1/n) Σ_j (c(x + δu_j) − c(x)) / δ · u_j        (n + 1 queries)
 *   antithetic:  ĝ = (1/n) Σ_j (c(x + δu_j) − c(x − δu_j)) / 2δ · u_j (2n + 1 queries)
 * All inputs of one estimate travel in one request (split if the server's maxBatch is smaller).
 */
import { tf, type Tensor, type Tensor4D } from '../../shared/tensor/tf';
import { INFERENCE_FORWARD, unflattenParams, type Model } from '../../shared/models';
import { Rng } from '../../shared/random';
import { observedConfidence, type PredictClient } from './client';
import type { ConfidenceOracle, OracleAnswer } from './mi-face';
import type { MiFaceConfig } from './schema';

export class WhiteBoxOracle implements ConfidenceOracle {
  readonly queries = 0;
  private readonly params: Tensor[];

  constructor(
    private readonly model: Model,
    params: Float32Array,
  ) {
    this.params = unflattenParams(params, model.specs);
  }

  async evaluate(x: Float32Array, label: number): Promise<OracleAnswer> {
    const { value, grad } = tf.tidy(() => {
      const input = tf.tensor4d(x, [1, ...this.model.inputShape]);
      const f = (img: Tensor) =>
        tf.sub(
          1,
          tf
            .softmax(this.model.apply(this.params, img as Tensor4D, INFERENCE_FORWARD))
            .gather([label], 1)
            .sum(),
        ) as tf.Scalar;
      return tf.valueAndGrad(f)(input);
    });
    const cost = (await value.data())[0];
    const gradient = (await grad.data()) as Float32Array;
    value.dispose();
    grad.dispose();
    return { cost, gradient: Float32Array.from(gradient) };
  }

  dispose(): void {
    this.params.forEach((t) => t.dispose());
  }
}

export type Estimator = MiFaceConfig['estimator'];

export class BlackBoxOracle implements ConfidenceOracle {
  private readonly rng: Rng;

  constructor(
    private readonly client: PredictClient,
    private readonly estimator: Estimator,
    seed = 0,
  ) {
    this.rng = new Rng(seed).fork('mi-face-directions');
  }

  get queries(): number {
    return this.client.stats.queries;
  }

  async evaluate(x: Float32Array, label: number): Promise<OracleAnswer> {
    const { directions: n, delta, kind } = this.estimator;
    const d = x.length;
    const signs = kind === 'antithetic' ? [1, -1] : [1];
    const u = this.rng.fillNormal(new Float32Array(n * d));
    const count = 1 + n * signs.length;
    const batch = new Float32Array(count * d);
    batch.set(x, 0);
    for (let j = 0; j < n; j++) {
      signs.forEach((s, k) => {
        const at = (1 + j * signs.length + k) * d;
        for (let i = 0; i < d; i++) batch[at + i] = x[i] + s * delta * u[j * d + i];
      });
    }
    const outputs = await this.client.predict(batch, count);
    const costs = outputs.map((o) => 1 - observedConfidence(o, label));
    const gradient = new Float32Array(d);
    for (let j = 0; j < n; j++) {
      const diff = kind === 'antithetic' ? (costs[1 + 2 * j] - costs[2 + 2 * j]) / (2 * delta) : (costs[1 + j] - costs[0]) / delta;
      if (diff === 0) continue;
      for (let i = 0; i < d; i++) gradient[i] += (diff * u[j * d + i]) / n;
    }
    return { cost: costs[0], gradient };
  }
}
