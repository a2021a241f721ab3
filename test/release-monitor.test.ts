import { expect } from 'chai';
import { initBackend } from '../shared/tensor/backend';
import { buildModel } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { loadMnist } from '../shared/data';
import { Rng } from '../shared/random';
import { startPredictionApi, type PredictionApi } from '../server/release/api';
import { apiSchema } from '../server/release/schema';
import { generateKey, keyId } from '../server/release/keys';
import { PredictClient, ApiRefused } from '../server/release/client';
import { BlackBoxOracle } from '../server/release/oracles';
import { invertClass } from '../server/release/mi-face';
import type { MonitorFlag } from '../server/release/monitor';

describe('release: query monitor on real HTTP traffic', function () {
  this.timeout(60000);
  const attacker = generateKey();
  const benign = generateKey();
  let api: PredictionApi;
  const flags: MonitorFlag[] = [];

  before(async () => {
    await initBackend({ quiet: true });
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [] }), [28, 28, 1], 10);
    const params = model.initParams(new Rng(3));
    const config = apiSchema.parse({ requestsPerSecond: 0, inputsPerSecond: 0, monitor: { action: 'block' } });
    api = await startPredictionApi({ model, params, config, keys: [attacker, benign], onFlag: (f) => flags.push(f) });
  });
  after(() => api.close());

  it('does not flag 1,000 distinct real digits sent in batches of varying size', async () => {
    const digits = loadMnist();
    const client = new PredictClient(api.url, benign);
    const rng = new Rng(9);
    let sent = 0;
    while (sent < 1000) {
      const n = Math.min(1000 - sent, 1 + rng.int(40));
      await client.predict(digits.images.subarray(sent * 784, (sent + n) * 784), n);
      sent += n;
    }
    expect(client.stats.queries).to.equal(1000);
    expect(api.monitor.flagOf(keyId(benign))).to.equal(null);
  });

  it('does not flag the same input sent again (an exact repeat reveals nothing new)', async () => {
    const client = new PredictClient(api.url, benign);
    const one = loadMnist().images.subarray(0, 784);
    for (let i = 0; i < 100; i++) await client.predict(one, 1);
    expect(api.monitor.flagOf(keyId(benign))).to.equal(null);
  });

  it('flags a finite-difference query stream from black-box MI-FACE, then blocks the key (403), which ends the attack', async () => {
    const client = new PredictClient(api.url, attacker);
    const oracle = new BlackBoxOracle(client, { kind: 'forward', directions: 20, delta: 1e-3 }, 1);
    const params = {
      iterations: 30,
      patience: 100,
      costThreshold: 0,
      stepSize: 0.1,
      process: 'clip' as const,
      auxWeight: 0,
      maxQueries: 0,
    };
    // The attack ends at the 403 (stoppedBy "blocked") instead of failing, keeping its best image so far.
    const result = await invertClass(oracle, 3, 784, params);
    expect(result.stoppedBy).to.equal('blocked');
    expect(result.iterations).to.be.below(30);
    let refused: ApiRefused | null = null;
    try {
      await client.predict(new Float32Array(784), 1);
    } catch (err) {
      refused = err as ApiRefused;
    }
    const flag = api.monitor.flagOf(keyId(attacker));
    expect(flag?.reason).to.equal('finite-difference pattern');
    expect(flag?.afterQueries).to.be.at.most(100);
    expect(flags.map((f) => f.keyId)).to.deep.equal([keyId(attacker)]);
    expect(refused?.status).to.equal(403);
    expect(refused?.message).to.match(/blocked by the query monitor/);
  });

  it("flags a slow walk that keeps raising one class's score (confidence climbing), though no two inputs are near-duplicates", async () => {
    const walker = generateKey();
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [] }), [28, 28, 1], 10);
    const config = apiSchema.parse({ requestsPerSecond: 0, inputsPerSecond: 0, monitor: { action: 'log', nearDistance: 0.001 } });
    const own = await startPredictionApi({ model, params: model.initParams(new Rng(3)), config, keys: [walker] });
    try {
      const client = new PredictClient(own.url, walker);
      const digit = loadMnist().images.subarray(0, 784);
      for (let t = 1; t <= 40; t++)
        await client.predict(
          digit.map((v) => (v * t) / 40),
          1,
        );
      expect(own.monitor.flagOf(keyId(walker))?.reason).to.equal('confidence-climbing sequence');
    } finally {
      await own.close();
    }
  });
});
