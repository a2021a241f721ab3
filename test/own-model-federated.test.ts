/**
 * Issue 16's end-to-end check: a functional Keras-style model (Conv2D + BatchNormalization +
 * MaxPooling2D + residual Add + Dense) saved with @tensorflow/tfjs, trained federated by
 * `fedleak run` (a real process, real client processes) on an image folder the test writes from
 * real MNIST digits; the curious server's Inverting Gradients on a batch of 4 beats the random-image
 * baseline clearly; the trained model's predictions equal tfjs's with the final weights.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { INFERENCE_FORWARD, modelFromDefinition, unflattenParams } from '../shared/models';
import { importTfjsLayersModel } from '../shared/models/import/tfjs-layers';
import { loadDataset } from '../shared/data';
import { writeImageFolder } from '../shared/data/image-folder-write';
import { dataSchema } from '../server/scenario/schema';
import { psnr } from '../server/metrics/image';
import { Rng } from '../shared/random';
import type { RunResults } from '../server/report/results';
import { saveLayersModel } from './fixtures/tfjs-save';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');
const SHAPE: [number, number, number] = [12, 12, 3];

function residualBnModel(): tf.LayersModel {
  const input = tf.input({ shape: SHAPE });
  const conv = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ momentum: 0.9 }).apply(conv) as tf.SymbolicTensor;
  const relu = tf.layers.activation({ activation: 'relu' }).apply(bn) as tf.SymbolicTensor;
  const pool = tf.layers.maxPooling2d({ poolSize: 2 }).apply(relu) as tf.SymbolicTensor;
  const branch = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(pool) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([pool, branch]) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(sum) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('own model and data end to end: a saved tfjs model with batch norm, trained federated on an image folder', function () {
  this.timeout(600000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-own-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('fedleak run trains it; IG on a batch of 4 beats the random-image baseline; predictions match tfjs', async () => {
    const digits = loadDataset(dataSchema.parse({ dataset: 'mnist', limit: 160 }), 0);
    const folder = writeImageFolder(digits, path.join(dir, 'digits'), { shape: [SHAPE[0], SHAPE[1], 3] });
    const keras = residualBnModel();
    fs.mkdirSync(path.join(dir, 'model'));
    const modelFile = await saveLayersModel(keras, path.join(dir, 'model'));
    const scenario = {
      name: 'own-model-image-folder',
      seed: 3,
      data: { dataset: 'image-folder', path: folder, partition: 'iid' },
      model: { name: 'tfjs-layers', path: modelFile },
      federation: { clients: 2, clientsPerRound: 2, rounds: 3, algorithm: 'fedsgd', batchSize: 4, learningRate: 0.1 },
      attack: {
        name: 'inverting-gradients',
        iterations: 1000,
        restarts: 1,
        learningRate: 0.1,
        tvWeight: 0.001,
        rounds: [3],
        maxTargets: 1,
      },
    };
    const scenarioFile = path.join(dir, 'scenario.json');
    fs.writeFileSync(scenarioFile, JSON.stringify(scenario));
    const out = path.join(dir, 'out');
    const run = await runCli(['run', scenarioFile, '--out', out, '--quiet']);
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.rounds).to.have.length(3);
    const [attack] = results.attacks;
    expect(attack.attack).to.equal('inverting-gradients');
    expect(attack.batchSize).to.equal(4);

    // The random-image baseline: uniform noise against the same kind of images (the folder's digits).
    const images = loadDataset(dataSchema.parse({ dataset: 'image-folder', path: folder }), 0);
    const size = SHAPE[0] * SHAPE[1] * SHAPE[2];
    const rng = new Rng(1);
    const baseline: number[] = [];
    for (let i = 0; i < 40; i++) {
      const truth = images.images.subarray(i * size, (i + 1) * size);
      baseline.push(psnr(rng.fillUniform(new Float32Array(size), 0, 1), truth));
    }
    const baselineMean = baseline.reduce((a, b) => a + b, 0) / baseline.length;
    expect(attack.psnr, `IG ${attack.psnr.toFixed(2)} dB vs random ${baselineMean.toFixed(2)} dB`).to.be.above(baselineMean + 6);

    // The final global model, in tfjs: the same predictions (inference, moving statistics).
    const finalParams = new Float32Array(new Uint8Array(fs.readFileSync(path.join(out, 'final-params.bin'))).buffer);
    const imported = importTfjsLayersModel(modelFile);
    const model = modelFromDefinition(imported.definition);
    expect(finalParams.length).to.equal(imported.params.length);
    keras.setWeights(unflattenParams(finalParams, model.specs));
    const x = tf.tensor4d(images.images.subarray(0, 8 * size), [8, ...SHAPE]) as Tensor4D;
    const ours = tf.softmax(model.apply(unflattenParams(finalParams, model.specs), x, INFERENCE_FORWARD));
    const theirs = keras.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).to.be.below(1e-5);
    // Training moved the batch-norm statistics away from their initial 0 and 1.
    const movingMean = model.stateParams[0];
    expect(Array.from(unflattenParams(finalParams, model.specs)[movingMean].dataSync()).some((v) => Math.abs(v) > 1e-3)).to.equal(true);
  });
});
