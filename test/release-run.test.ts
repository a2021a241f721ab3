import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../shared/tensor/backend';
import { buildModel } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { loadMnist, splitIndices, subset } from '../shared/data';
import { Rng } from '../shared/random';
import { trainClassifier } from '../server/release/train';
import { releaseResultsSchema, releaseSchema, runRelease, type MiFaceAttackRecord } from '../server/release';
import { loadReleasedModel } from '../server/release/model-file';

describe('release: the release step of a run (save, serve, attack, record)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => initBackend({ quiet: true }));
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-release-run-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saves the model, keeps serving it, and records white-box and black-box attacks in the results schema', async () => {
    const mnist = loadMnist();
    const split = splitIndices(mnist.labels.length, 0.2, 600, new Rng(0));
    const train = subset(mnist, split.train);
    const heldOut = subset(mnist, split.test);
    const modelConfig = modelSchema.parse({ name: 'mlp', hidden: [] });
    const model = buildModel(modelConfig, [28, 28, 1], 10);
    const params = trainClassifier(model, train, { epochs: 2, learningRate: 0.1, batchSize: 32, seed: 0 });
    const config = releaseSchema.parse({
      api: { requestsPerSecond: 0, inputsPerSecond: 0 },
      attacks: [
        { name: 'mi-face', access: 'white-box', classes: [0, 1], iterations: 200 },
        { name: 'mi-face', access: 'black-box', classes: [0], iterations: 5, costThreshold: 0 },
      ],
      evaluator: { epochs: 1 },
    });
    const { results, api } = await runRelease({ runDir: dir, config, modelConfig, params, train, heldOut, testAccuracy: 0.9, seed: 0 });
    try {
      expect(() => releaseResultsSchema.parse(results)).to.not.throw();
      const attacks = results.attacks.filter((a): a is MiFaceAttackRecord => a.attack === 'mi-face');
      expect(attacks.map((a) => [a.access, a.perClass.length])).to.deep.equal([
        ['white-box', 2],
        ['black-box', 1],
      ]);
      expect(attacks[1].queries).to.equal(5 * 21);
      expect(fs.existsSync(path.join(dir, attacks[0].image as string))).to.equal(true);
      expect(Array.from(loadReleasedModel(dir).params)).to.deep.equal(Array.from(params));
      expect(api).to.not.equal(null);
      const key = (JSON.parse(fs.readFileSync(path.join(dir, 'release', 'api-keys.json'), 'utf8')) as { keys: { key: string }[] }).keys[0]
        .key;
      const res = await fetch(`${api?.url}/v1/model`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).to.equal(200);
    } finally {
      await api?.close();
    }
  });
});
