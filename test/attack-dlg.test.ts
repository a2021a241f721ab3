import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../shared/models';
import { loadMnist } from '../shared/data/mnist';
import { Rng } from '../shared/random';
import { attackSchema, modelSchema, type ModelConfig } from '../server/scenario/schema';
import { psnr, scoreReconstruction } from '../server/metrics';
import { parameterGradients } from '../server/observer/gradient-matching';
import { getAttack } from '../server/observer/attacks';
import { dlg, observedGradient, victimBatchSize } from '../server/observer/attacks/dlg';
import { idlg, idlgLabels } from '../server/observer/attacks/idlg';
import type { AttackConfig } from '../server/scenario/schema';
import type { AttackProgress } from '../server/observer/attacks/types';
import { toAttackInput, type FlatInput } from './fixtures/flat-input';
import { comparisonPng, PNG_GAP, PNG_SCALE, writeComparisonPng } from '../server/report/png';
import type { Dataset } from '../shared/data/types';

const SIZE = 28 * 28;

/** A fedsgd update of one real digit, computed in-process exactly as a client would. */
function victimUpdate(
  data: Dataset,
  index: number,
  modelConfig: ModelConfig,
  seed: number,
  attack: Partial<AttackConfig> = {},
): FlatInput & { image: Float32Array; label: number } {
  const model = buildModel(modelConfig, data.shape, data.numClasses);
  const globalParams = model.initParams(new Rng(seed));
  const image = data.images.slice(index * SIZE, (index + 1) * SIZE);
  const label = data.labels[index];
  const update = tf.tidy(() => {
    const grads = parameterGradients(
      model,
      unflattenParams(globalParams, model.specs),
      tf.tensor4d(image, [1, 28, 28, 1]) as Tensor4D,
      oneHot([label], 10),
    );
    return flattenParams(grads, model.specs);
  });
  return {
    model: { config: modelConfig, inputShape: data.shape, numClasses: data.numClasses },
    globalParams,
    update,
    updateKind: 'gradient',
    training: { algorithm: 'fedsgd', batchSize: 1, localSteps: 1, learningRate: 0.1, localEpochs: 0 },
    numExamples: 1,
    attack: attackSchema.parse({ name: 'dlg', ...attack }),
    seed,
    image,
    label,
  };
}

/** What guessing gets: PSNR of uniform noise against the digit (about 5 dB). */
function noiseBaseline(image: Float32Array, seed: number): number {
  return psnr(new Rng(seed).fillUniform(new Float32Array(SIZE), 0, 1), image);
}

describe('dlg and idlg attacks (real MNIST digits)', function () {
  let data: Dataset;
  before(async () => {
    await initBackend({ quiet: true });
    data = loadMnist();
  });

  it('are registered under their scenario names', () => {
    expect(getAttack('dlg')).to.equal(dlg);
    expect(getAttack('idlg')).to.equal(idlg);
  });

  it('dlg recovers a digit and its label from an mlp gradient, leaking no tensors', async () => {
    const input = victimUpdate(data, 3, modelSchema.parse({ name: 'mlp', hidden: [64], activation: 'sigmoid' }), 5, { iterations: 6 });
    const tensorsBefore = tf.memory().numTensors;
    const progress: AttackProgress[] = [];
    const out = await dlg(toAttackInput(input), (p) => progress.push(p));
    expect(tf.memory().numTensors).to.equal(tensorsBefore);

    const score = scoreReconstruction(out, { images: input.image, labels: [input.label], count: 1 }, data.shape);
    const baseline = noiseBaseline(input.image, 9);
    expect(baseline).to.be.below(10);
    expect(score.psnr, `PSNR ${score.psnr} vs noise ${baseline}`).to.be.above(baseline + 25);
    expect(score.ssim).to.be.above(0.9);
    expect(out.labels).to.deep.equal([input.label]);
    expect(out.count).to.equal(1);
    for (const v of out.images) expect(v >= 0 && v <= 1).to.equal(true);

    // Bookkeeping: one progress event per L-BFGS step, at most 20 evaluations per step (+1 final).
    expect(out.iterations).to.be.within(1, 6);
    expect(progress.map((p) => p.iteration)).to.deep.equal(Array.from({ length: out.iterations }, (_, i) => i + 1));
    expect(out.evaluations).to.be.at.most(20 * out.iterations + 1);
    expect(out.finalObjective).to.be.below(progress[0].objective);
  });

  it('with attack.restarts keeps the restart of lowest objective, restart 0 being the plain run', async () => {
    const config = modelSchema.parse({ name: 'mlp', hidden: [16], activation: 'sigmoid' });
    const once = await dlg(toAttackInput(victimUpdate(data, 5, config, 2, { iterations: 2 })));
    const progress: number[] = [];
    const thrice = await dlg(toAttackInput(victimUpdate(data, 5, config, 2, { iterations: 2, restarts: 3 })), (p) =>
      progress.push(p.iteration),
    );
    expect(thrice.finalObjective).to.be.at.most(once.finalObjective);
    expect(thrice.evaluations).to.be.greaterThan(once.evaluations);
    expect(progress).to.deep.equal(Array.from({ length: thrice.iterations }, (_, i) => i + 1));
    expect(thrice.iterations).to.be.greaterThan(once.iterations);
  });

  it('idlg reads the label of one example off the logit-layer gradient, for every class', () => {
    const config = modelSchema.parse({ name: 'lenet-zhu' });
    for (let index = 0; index < 10; index++) {
      const input = victimUpdate(data, index, config, 100 + index);
      expect(idlgLabels(toAttackInput(input)), `digit #${index}`).to.deep.equal([input.label]);
    }
  });

  it('idlg takes a batch’s labels from the count rule and reconstructs one image per example', async () => {
    const config = modelSchema.parse({ name: 'lenet-zhu' });
    const model = buildModel(config, data.shape, 10);
    const globalParams = model.initParams(new Rng(21));
    const indices = [4, 9];
    const images = new Float32Array(2 * SIZE);
    indices.forEach((idx, i) => images.set(data.images.subarray(idx * SIZE, (idx + 1) * SIZE), i * SIZE));
    const labels = indices.map((i) => data.labels[i]);
    const update = tf.tidy(() =>
      flattenParams(
        parameterGradients(
          model,
          unflattenParams(globalParams, model.specs),
          tf.tensor4d(images, [2, 28, 28, 1]) as Tensor4D,
          oneHot(labels, 10),
        ),
        model.specs,
      ),
    );
    const input = toAttackInput({
      model: { config, inputShape: data.shape, numClasses: 10 },
      globalParams,
      update,
      updateKind: 'gradient',
      training: { algorithm: 'fedsgd', batchSize: 2, localSteps: 1, learningRate: 0.1, localEpochs: 0 },
      numExamples: 2,
      attack: attackSchema.parse({ name: 'idlg', iterations: 1 }),
      seed: 4,
    });
    expect(idlgLabels(input)).to.have.members(labels);
    const out = await idlg(input);
    expect(out.count).to.equal(2);
    expect(out.images.length).to.equal(2 * SIZE);
    expect(out.labels).to.have.members(labels);
  });

  it('idlg reconstructs a digit through lenet-zhu in a few L-BFGS steps', async () => {
    const input = victimUpdate(data, 7, modelSchema.parse({ name: 'lenet-zhu' }), 3, { name: 'idlg', iterations: 6 });
    const tensorsBefore = tf.memory().numTensors;
    const out = await idlg(toAttackInput(input));
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
    const score = scoreReconstruction(out, { images: input.image, labels: [input.label], count: 1 }, data.shape);
    const baseline = noiseBaseline(input.image, 4);
    expect(out.labels).to.deep.equal([input.label]);
    expect(score.psnr, `PSNR ${score.psnr} vs noise ${baseline}`).to.be.above(baseline + 15);
    expect(out.iterations).to.equal(6);
  });

  it('treats a one-step fedavg delta as −lr·gradient', () => {
    const input = victimUpdate(data, 2, modelSchema.parse({ name: 'lenet-zhu' }), 8);
    const lr = 0.05;
    const delta = input.update.map((g) => -lr * g);
    const fedavg: FlatInput = {
      ...input,
      update: delta,
      updateKind: 'weight-delta',
      training: { algorithm: 'fedavg', batchSize: 1, localSteps: 1, learningRate: lr, localEpochs: 0 },
    };
    const estimate = observedGradient(toAttackInput(fedavg));
    for (let i = 0; i < estimate.length; i += 97)
      expect(estimate[i]).to.be.closeTo(input.update[i], 1e-5 * (1 + Math.abs(input.update[i])));
    expect(idlgLabels(toAttackInput(fedavg))).to.deep.equal([input.label]);
    // Two local steps of batch 2 over a 10-example shard: 4 examples behind the delta.
    expect(
      victimBatchSize(toAttackInput({ ...fedavg, numExamples: 10, training: { ...fedavg.training, batchSize: 2, localSteps: 2 } })),
    ).to.equal(4);
  });

  it('rejects an update that does not fit the model', async () => {
    const input = victimUpdate(data, 0, modelSchema.parse({ name: 'mlp', hidden: [8] }), 1);
    let message = '';
    const good = toAttackInput(input);
    await dlg({ ...good, observed: { ...good.observed, update: new Float32Array(5) } }).catch((err: Error) => (message = err.message));
    expect(message).to.match(/dlg: update has 5 values/);
    // A fedavg delta over one epoch of 500 examples is beyond what L-BFGS matching attempts.
    const epoch = toAttackInput({
      ...input,
      updateKind: 'weight-delta',
      numExamples: 500,
      training: { ...input.training, algorithm: 'fedavg', batchSize: 10, localEpochs: 1 },
    });
    await dlg(epoch).catch((err: Error) => (message = err.message));
    expect(message).to.match(/dlg: the update comes from 500 examples/);
  });

  it('draws originals above their matched reconstructions, ×4 with grey separators', () => {
    const originals = data.images.slice(0, 2 * SIZE);
    const recon = new Float32Array(2 * SIZE);
    recon.set(originals.subarray(SIZE), 0); // reconstruction 0 is original 1
    recon.fill(1, SIZE); // reconstruction 1 is white, matched to original 0
    const png = comparisonPng(originals, 2, recon, 2, [28, 28, 1], [1, 0]);
    const cell = 28 * PNG_SCALE + PNG_GAP;
    expect(png.width).to.equal(PNG_GAP + 2 * cell);
    expect(png.height).to.equal(PNG_GAP + 2 * cell);
    const pixel = (x: number, y: number) => png.data[(y * png.width + x) * 4];
    expect(pixel(0, 0)).to.equal(128);
    // Every pixel of the second row's first cell is white; the second cell repeats original 1.
    expect(pixel(PNG_GAP + 50, cell + PNG_GAP + 50)).to.equal(255);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const want = Math.round(255 * originals[SIZE + y * 28 + x]);
        expect(pixel(cell + PNG_GAP + x * PNG_SCALE + 3, cell + PNG_GAP + y * PNG_SCALE + 3)).to.equal(want);
      }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-png-'));
    try {
      const file = path.join(dir, 'images', 'cmp.png');
      writeComparisonPng(file, originals, 2, recon, 2, [28, 28, 1], [1, 0]);
      const back = PNG.sync.read(fs.readFileSync(file));
      expect(back.width).to.equal(png.width);
      expect(Buffer.compare(back.data, png.data)).to.equal(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
