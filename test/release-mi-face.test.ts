import { expect } from 'chai';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, type Model } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { loadMnist, splitIndices, subset, type Dataset } from '../shared/data';
import { Rng } from '../shared/random';
import { predictLabels, trainClassifier } from '../server/release/train';
import { runMiFaceAttack, trueConfidences } from '../server/release/run-attack';
import { miFaceSchema, apiSchema, type Masking } from '../server/release/schema';
import { startPredictionApi } from '../server/release/api';
import { generateKey } from '../server/release/keys';
import { PredictClient } from '../server/release/client';
import { BlackBoxOracle, WhiteBoxOracle } from '../server/release/oracles';
import { invertClass } from '../server/release/mi-face';
import type { Evaluator } from '../server/release/score';

/** A softmax regression trained on 2,000 digits, and an evaluator of another architecture on 1,000 others. */
describe('release: MI-FACE on a small trained model', function () {
  this.timeout(60000);
  let target: { model: Model; params: Float32Array };
  let evaluator: Evaluator;
  let train: Dataset;

  before(async () => {
    await initBackend({ quiet: true });
    const mnist = loadMnist();
    const split = splitIndices(mnist.labels.length, 1 / 3, 3000, new Rng(0));
    train = subset(mnist, split.train);
    const heldOut = subset(mnist, split.test);
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [] }), [28, 28, 1], 10);
    target = { model, params: trainClassifier(model, train, { epochs: 3, learningRate: 0.1, batchSize: 32, seed: 1 }) };
    const evalModel = buildModel(modelSchema.parse({ name: 'mlp', hidden: [64], activation: 'relu' }), [28, 28, 1], 10);
    evaluator = {
      model: evalModel,
      params: trainClassifier(evalModel, heldOut, { epochs: 5, learningRate: 0.1, batchSize: 32, seed: 2 }),
      testAccuracy: 0,
      trainedOn: heldOut.labels.length,
    };
  });

  it('white-box: the held-out evaluator classifies most inversions as their target class', async () => {
    const config = miFaceSchema.parse({ name: 'mi-face', iterations: 300 });
    const record = await runMiFaceAttack({
      config,
      target,
      access: { kind: 'white-box' },
      evaluator,
      train,
      outDir: null,
      compareLimit: 50,
    });
    expect(record.perClass.map((c) => c.label)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(record.classAccuracy).to.be.at.least(0.8);
    record.perClass.forEach((c) => expect(c.confidence).to.be.greaterThan(0.9));
    expect(record.queries).to.equal(0);
  });

  it('the returned image is the lowest-cost iterate, and stops at the cost threshold γ', async () => {
    const oracle = new WhiteBoxOracle(target.model, target.params);
    const r = await invertClass(oracle, 4, 784, {
      iterations: 300,
      patience: 100,
      costThreshold: 0.2,
      stepSize: 0.1,
      process: 'clip',
      auxWeight: 0,
      maxQueries: 0,
    });
    oracle.dispose();
    expect(r.stoppedBy).to.equal('threshold');
    expect(r.cost).to.be.at.most(0.2);
    expect(1 - trueConfidences(target, [r])[0]).to.be.closeTo(r.cost, 1e-5);
    expect(Math.min(...r.image)).to.be.at.least(0);
    expect(Math.max(...r.image)).to.be.at.most(1);
  });

  /** A class the blank start image is not predicted as (else label-only answers "yes" at x₀). */
  function labelNotAtZero(): number {
    return (predictLabels(target.model, target.params, new Float32Array(784), 1)[0] + 1) % 10;
  }

  async function blackBox(masking: Masking, iterations: number) {
    const key = generateKey();
    const api = await startPredictionApi({
      model: target.model,
      params: target.params,
      keys: [key],
      config: apiSchema.parse({ masking, requestsPerSecond: 0, inputsPerSecond: 0, monitor: { action: 'off' } }),
    });
    try {
      const client = new PredictClient(api.url, key);
      const oracle = new BlackBoxOracle(client, { kind: 'forward', directions: 20, delta: 1e-3 }, 5);
      const r = await invertClass(oracle, labelNotAtZero(), 784, {
        iterations,
        patience: 20,
        costThreshold: 0.01,
        stepSize: 0.1,
        process: 'clip',
        auxWeight: 0,
        maxQueries: 0,
      });
      return { r, stats: client.stats };
    } finally {
      await api.close();
    }
  }

  it('black-box through the HTTP API with full confidences lowers the cost, counting 21 queries per step', async () => {
    const { r, stats } = await blackBox({ mode: 'full' }, 150);
    const atZero = 1 - trueConfidences(target, [{ ...r, image: new Float32Array(784) }])[0];
    expect(r.cost).to.be.lessThan(atZero - 0.3);
    expect(r.queries).to.equal(21 * r.iterations);
    expect(stats.queries).to.equal(r.queries);
  });

  it('black-box against label-only answers gets no gradient and stops by patience at cost 1', async () => {
    const { r } = await blackBox({ mode: 'label-only' }, 60);
    expect(r.stoppedBy).to.equal('patience');
    expect(r.cost).to.equal(1);
  });
});
