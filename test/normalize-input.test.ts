/**
 * `data.normalize` as the model's first layer: the definition (built-in and imported) starts with a
 * parameter-free normalize op, the server's welcome carries it, bad mean/std are refused naming the
 * field, and a federated run with it trains while Inverting Gradients still reconstructs pixels.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { Rng } from '../shared/random';
import { definitionFor, modelFromDefinition, unflattenParams, type ModelDefinition } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { importTfjsArtifacts } from '../shared/models/import/tfjs-layers';
import { NORMALIZE_LAYER, withInputNormalization } from '../shared/models/input-normalization';
import { normalizePixels } from '../shared/data/normalize';
import { DataError } from '../shared/data/errors';
import { loadMnist } from '../shared/data';
import { ScenarioError } from '../shared/scenario/errors';
import { validateScenario } from '../server/scenario/load';
import { startCoordinator } from '../server/coordinator';
import { runScenario } from '../server/run';
import { psnr } from '../server/metrics/image';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-normalize-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CIFAR_LIKE = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

function logits(def: ModelDefinition, images: Float32Array, shape: number[], flat: Float32Array): Float32Array {
  return tf.tidy(() => {
    const model = modelFromDefinition(def);
    const params = unflattenParams(flat, model.specs);
    return model
      .apply(params, tf.tensor4d(images, [1, ...shape] as [number, number, number, number]) as Tensor4D)
      .dataSync() as Float32Array;
  });
}

function tinyConvnet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
}

/** A tfjs model as model.save() writes it (topology, weight specs, weight bytes), imported. */
async function imported(m: tf.LayersModel = tinyConvnet()): Promise<{ definition: ModelDefinition; params: Float32Array }> {
  let saved: { topology: unknown; specs: { name: string; shape: number[] }[]; data: Uint8Array } | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      saved = {
        topology: a.modelTopology,
        specs: a.weightSpecs as { name: string; shape: number[] }[],
        data: new Uint8Array(a.weightData as ArrayBuffer),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('not saved');
  const s = saved as { topology: unknown; specs: { name: string; shape: number[] }[]; data: Uint8Array };
  return importTfjsArtifacts(s.topology, s.specs, s.data, 'tiny.json');
}

describe('data.normalize: the model starts with a normalize layer', function () {
  this.timeout(30000);
  before(async () => initBackend({ quiet: true }));

  it('a built-in model on pixels gives the logits the plain model gives on normalised pixels, bit for bit; parameters unchanged', () => {
    const config = modelSchema.parse({ name: 'convnet', channels: [3], hidden: [5] });
    const plain = definitionFor(config, [4, 4, 3], 3);
    const normalised = definitionFor(config, [4, 4, 3], 3, CIFAR_LIKE);
    expect(normalised.layers[0]).to.deep.include({ name: NORMALIZE_LAYER, op: 'normalize', inputs: ['input'], params: [] });
    expect(normalised.layers[0].config).to.deep.equal(CIFAR_LIKE);
    expect(normalised.layers[1].inputs).to.deep.equal([NORMALIZE_LAYER]);
    expect(normalised.params).to.deep.equal(plain.params);
    const flat = modelFromDefinition(plain).initParams(new Rng(1));
    const pixels = new Rng(2).fillUniform(new Float32Array(48), 0, 1);
    const viaLayer = logits(normalised, pixels, [4, 4, 3], flat);
    const viaData = logits(plain, normalizePixels(pixels, 3, CIFAR_LIKE), [4, 4, 3], flat);
    expect(Array.from(viaLayer)).to.deep.equal(Array.from(viaData));
    expect(Array.from(viaLayer)).not.to.deep.equal(Array.from(logits(plain, pixels, [4, 4, 3], flat)));
  });

  it('an imported tfjs model gets the layer before its first layer, its weights untouched', async () => {
    const { definition } = await imported();
    const normalised = withInputNormalization(definition, { mean: [0.5], std: [0.25] });
    expect(normalised.layers.map((l) => l.op)).to.deep.equal(['normalize', 'conv2d', 'flatten', 'dense']);
    expect(normalised.layers[1].inputs).to.deep.equal([NORMALIZE_LAYER]);
    expect(normalised.params).to.deep.equal(definition.params);
    expect(() => modelFromDefinition(normalised)).not.to.throw();
  });

  it('a tfjs Rescaling layer imports as the rescaling op: logits equal model.predict within 1e-5', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.rescaling({ inputShape: [4, 4, 3], scale: 1 / 127.5, offset: -1 }),
        tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const { definition, params } = await imported(m);
    expect(definition.layers[0]).to.deep.include({ op: 'rescaling', config: { scale: 1 / 127.5, offset: -1 } });
    const pixels = new Rng(3).fillUniform(new Float32Array(48), 0, 255);
    const want = tf.tidy(() => (m.predict(tf.tensor4d(pixels, [1, 4, 4, 3])) as tf.Tensor).dataSync());
    const got = logits(definition, pixels, [4, 4, 3], params);
    got.forEach((v, i) => expect(v).to.be.closeTo(want[i], 1e-5));
  });

  it('wrong-length mean/std and std ≤ 0 are refused naming the field', () => {
    const base = { name: 'n', attack: { name: 'none' } };
    expect(() => validateScenario({ ...base, data: { dataset: 'mnist', normalize: { mean: [0.1, 0.2], std: [0.3] } } }, 'n.json')).to.throw(
      ScenarioError,
      'data.normalize.mean has 2 values; the images have 1 channel(s) (give 1)',
    );
    expect(() =>
      validateScenario({ ...base, data: { dataset: 'synthetic', shape: [4, 4, 3], normalize: { mean: [0.5], std: [1, 2] } } }, 'n.json'),
    ).to.throw(ScenarioError, 'data.normalize.std has 2 values; the images have 3 channel(s) (give 3 or 1)');
    expect(() => validateScenario({ ...base, data: { dataset: 'mnist', normalize: { mean: [0.1], std: [0] } } }, 'n.json')).to.throw(
      ScenarioError,
      'data.normalize.std',
    );
    expect(() => validateScenario({ ...base, data: { dataset: 'mnist', normalize: { mean: [0.1], std: [-1] } } }, 'n.json')).to.throw(
      ScenarioError,
      'data.normalize.std',
    );
    // First-layer attacks and planted first layers cannot see through the normalize layer.
    const norm = { dataset: 'mnist', normalize: { mean: [0.1], std: [0.3] } };
    expect(() => validateScenario({ name: 'n', data: norm, model: { name: 'mlp' }, attack: { name: 'analytic' } }, 'n.json')).to.throw(
      ScenarioError,
      'data.normalize puts a normalize layer before the first dense layer',
    );
    expect(() =>
      validateScenario({ ...base, data: norm, model: { name: 'mlp' }, threatModel: 'G', server: { behaviour: 'trap-weights' } }, 'n.json'),
    ).to.throw(
      ScenarioError,
      'server.behaviour: "trap-weights" crafts the first dense layer, which data.normalize puts a normalize layer before',
    );
    // Channels known only from the files (IDX): the definition is refused when the data arrives.
    expect(() => definitionFor(modelSchema.parse({ name: 'mlp' }), [2, 2, 3], 3, { mean: [1, 2], std: [1] })).to.throw(
      DataError,
      'data.normalize.mean has 2 values; the images have 3 channel(s)',
    );
  });

  it("the server's welcome carries the normalize layer", async () => {
    const scenario = validateScenario(
      {
        name: 'welcome',
        data: { dataset: 'synthetic', shape: [4, 4, 3], classes: 3, size: 20, normalize: CIFAR_LIKE },
        model: { name: 'mlp', hidden: [4] },
        federation: { clients: 1, clientsPerRound: 1 },
        attack: { name: 'none' },
      },
      'welcome.json',
    );
    const coordinator = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log: () => undefined });
    try {
      const token = [...coordinator.tokens.keys()][0];
      const ws = new WebSocket(`ws://127.0.0.1:${coordinator.port}`);
      const welcome = await new Promise<WireMessage>((resolve, reject) => {
        ws.once('message', (d: Buffer) => resolve(decodeFrame(d, 'client')));
        ws.once('error', reject);
        ws.once('open', () => ws.send(encodeMessage({ type: 'hello', token, agent: 'test' })));
      });
      ws.close();
      if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${welcome.type}`);
      const model = welcome.model as ModelDefinition;
      expect(model.layers[0]).to.deep.include({ op: 'normalize', inputs: ['input'], config: CIFAR_LIKE });
      expect(model.layers.slice(1).map((l) => l.op)).to.deep.equal(['flatten', 'dense', 'dense']);
    } finally {
      await coordinator.hub.close('test over');
    }
  });
});

describe('data.normalize: a federated run (client processes) trains and Inverting Gradients recovers pixels', function () {
  this.timeout(180000);

  it('accuracy rises and the reconstruction is far above the random-image baseline, scored in pixel space', async () => {
    const scenario = validateScenario(
      {
        name: 'normalised-mnist',
        seed: 3,
        data: { dataset: 'mnist', limit: 1200, normalize: { mean: [0.1307], std: [0.3081] } },
        model: { name: 'mlp', hidden: [32], activation: 'sigmoid' },
        federation: { clients: 8, clientsPerRound: 8, clientsPerProcess: 8, rounds: 8, algorithm: 'fedsgd', batchSize: 1, learningRate: 1 },
        attack: { name: 'inverting-gradients', iterations: 60, rounds: [1], maxTargets: 1 },
      },
      'normalised.json',
    );
    const out = path.join(tmp, 'run');
    const results = await runScenario(
      { scenario, file: 'normalised.json', raw: {} },
      { outDir: out, progress: false, log: () => undefined },
    );
    const accuracy = results.rounds.map((r) => r.testAccuracy);
    expect(accuracy[accuracy.length - 1], `accuracy per round ${accuracy}`).to.be.above(accuracy[0] + 0.08);
    expect(results.attacks).to.have.length(1);
    const attack = results.attacks[0];
    expect(attack.error).to.equal(undefined);
    // Uniform noise against real digits: what a reconstruction that learnt nothing would score.
    const digits = loadMnist();
    const rng = new Rng(9);
    const baseline = Math.max(
      ...Array.from({ length: 20 }, (_, i) =>
        psnr(rng.fillUniform(new Float32Array(784), 0, 1), digits.images.subarray(i * 784, (i + 1) * 784)),
      ),
    );
    expect(attack.psnr).to.be.above(25);
    expect(attack.psnr).to.be.above(baseline + 15);
    expect(attack.labelAccuracy).to.equal(1);
  });
});
