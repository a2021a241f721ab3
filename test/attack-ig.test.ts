import { expect } from 'chai';
import { tf } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../shared/models';
import { modelSchema, type ModelConfig } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { loadMnist, subset, type Dataset } from '../shared/data';
import { psnr, scoreReconstruction } from '../server/metrics';
import {
  invertingGradients,
  orderedPartitions,
  screeningOptions,
  scheduledLearningRate,
  simulatedUpdate,
  totalVariation,
  unrollPlan,
} from '../server/observer/attacks/inverting-gradients';
import type { UpdateKind } from '../server/observer/attacks/types';
import { makeTrial, type Trial } from '../tools/eval/eval-trials';
import { computeUpdate } from '../client/train';

const SHAPE: [number, number, number] = [28, 28, 1];
const SIZE = 28 * 28;

interface Setup {
  model: ModelConfig;
  steps: number;
  batchSize: number;
  kind: UpdateKind;
  iterations: number;
  seed: number;
}

/** Real digits, the client's true update made in-process (client lr 0.1), and the attack input the server would have. */
function scenario(ds: Dataset, s: Setup): Trial {
  return makeTrial(
    { model: s.model, steps: s.steps, batchSize: s.batchSize, kind: s.kind, attackName: 'inverting-gradients' },
    s.seed,
    ds,
    0.1,
    { iterations: s.iterations },
  );
}

/** PSNR of an all-black guess, the strongest trivial baseline on MNIST (noise scores lower). */
function blackBaseline(images: Float32Array, n: number): number {
  return Math.max(...Array.from({ length: n }, (_, i) => psnr(new Float32Array(SIZE), images.subarray(i * SIZE, (i + 1) * SIZE))));
}

describe('inverting gradients', () => {
  let ds: Dataset;
  const mlp = modelSchema.parse({ name: 'mlp', hidden: [64], activation: 'sigmoid' });
  before(async () => {
    await initBackend({ quiet: true });
    ds = loadMnist();
  });

  it('reconstructs a fedsgd batch of 2 real digits on an mlp far better than a blank guess', async () => {
    const { input, images, labels } = scenario(ds, { model: mlp, steps: 1, batchSize: 2, kind: 'gradient', iterations: 60, seed: 3 });
    const before = tf.memory().numTensors;
    const out = await invertingGradients(input);
    expect(tf.memory().numTensors).to.equal(before); // every step's tensors are freed
    const score = scoreReconstruction({ images: out.images, labels: out.labels, count: out.count }, { images, labels, count: 2 }, SHAPE);
    expect(score.labelAccuracy).to.equal(1);
    expect(score.psnr).to.be.at.least(30);
    expect(score.psnr).to.be.greaterThan(blackBaseline(images, 2) + 15);
    expect(out.iterations).to.equal(60);
  });

  it('unrolls 2 local fedavg steps × batch 2 and recovers the digits and the step split of the labels', async () => {
    const { input, images, labels } = scenario(ds, { model: mlp, steps: 2, batchSize: 2, kind: 'weight-delta', iterations: 80, seed: 4 });
    const totals = new Set<number | undefined>();
    let last = 0;
    const out = await invertingGradients(input, (p) => {
      totals.add(p.total);
      last = p.iteration;
    });
    // Progress announces the planned total, screening included: 80 steps + an 8-step screen per screened deal.
    expect([...totals]).to.deep.equal([out.iterations]);
    expect(last).to.equal(out.iterations);
    expect(out.iterations).to.be.greaterThan(80);
    const score = scoreReconstruction({ images: out.images, labels: out.labels, count: out.count }, { images, labels, count: 4 }, SHAPE);
    expect(score.labelAccuracy).to.equal(1);
    expect(score.psnr).to.be.at.least(25);
    expect(score.psnr).to.be.greaterThan(blackBaseline(images, 4) + 10);
    // Labels come back grouped by step: the true step of each label.
    const steps = (ls: number[]) => [ls.slice(0, 2).sort().join(), ls.slice(2).sort().join()];
    expect(steps(out.labels)).to.deep.equal(steps(labels));
  });

  it('with attack.restarts keeps the restart of lowest objective, not the last one', async () => {
    const single = scenario(ds, { model: mlp, steps: 1, batchSize: 2, kind: 'gradient', iterations: 15, seed: 5 });
    const withRestarts = (restarts: number) => invertingGradients({ ...single.input, settings: { ...single.input.settings, restarts } });
    const [once, twice, thrice] = [await withRestarts(1), await withRestarts(2), await withRestarts(3)];
    expect(thrice.iterations).to.equal(3 * once.iterations);
    // Restart k draws from its own seed fork, so runs with more restarts share the earlier ones. Here
    // restart 1 beats restart 0 and is kept; restart 2 ends worse and is not (keeping the last would).
    expect(twice.finalObjective).to.be.below(once.finalObjective);
    expect(thrice.finalObjective).to.equal(twice.finalObjective);
    expect(Array.from(thrice.images)).to.deep.equal(Array.from(twice.images));
  });

  it('runs through lenet-zhu (double backprop through convolutions) and lowers the objective', async () => {
    const lenet = modelSchema.parse({ name: 'lenet-zhu' });
    const { input, images, labels } = scenario(ds, { model: lenet, steps: 1, batchSize: 1, kind: 'gradient', iterations: 60, seed: 5 });
    const trace: number[] = [];
    const before = tf.memory().numTensors;
    const out = await invertingGradients(input, (p) => trace.push(p.objective));
    expect(tf.memory().numTensors).to.equal(before);
    expect(out.labels).to.deep.equal(labels);
    expect(out.finalObjective).to.be.below(trace[0] / 3);
    const noise = new Float32Array(SIZE);
    new Rng(1).fillUniform(noise, 0, 1);
    expect(psnr(out.images, images)).to.be.greaterThan(psnr(noise, images) + 2);
  });

  it('unrolls local steps exactly as the client trains (client/train.ts)', () => {
    const model = buildModel(mlp, SHAPE, 10);
    const globalParams = model.initParams(new Rng(9));
    const shard = subset(ds, [0, 1, 2, 3, 4, 5]);
    const batches = [
      [4, 1],
      [0, 5],
    ];
    const clientDelta = computeUpdate(model, globalParams, shard, batches, 'fedavg', 0.1);
    const ordered = subset(shard, batches.flat());
    const params = unflattenParams(globalParams, model.specs);
    const ours = tf.tidy(() => {
      const targets = [oneHot(Array.from(ordered.labels.subarray(0, 2)), 10), oneHot(Array.from(ordered.labels.subarray(2)), 10)];
      const u = simulatedUpdate(
        model,
        params,
        tf.tensor4d(ordered.images, [4, ...SHAPE]),
        targets,
        { steps: 2, batchSize: 2, learningRate: 0.1 },
        'weight-delta',
      );
      return flattenParams(u, model.specs);
    });
    tf.dispose(params);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - clientDelta[i]));
    expect(worst).to.be.below(1e-5);
  });

  it('schedules lr ×0.1 at 3/8, 5/8 and 7/8 of the iterations', () => {
    expect([0, 2, 3, 4, 5, 6, 7].map((it) => scheduledLearningRate(1, it, 8))).to.deep.equal([
      1, 1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002,
    ]);
  });

  it('total variation is mean |dx| + mean |dy|', () => {
    // 1 image 2×2: [[0, 1], [1, 1]] → dx: |1−0|, |1−1| → 0.5; dy: |1−0|, |1−1| → 0.5.
    const tv = tf.tidy(() => totalVariation(tf.tensor4d([0, 1, 1, 1], [1, 2, 2, 1])).dataSync()[0]);
    expect(tv).to.be.closeTo(1, 1e-7);
  });

  it('lists each way to deal 4 examples over 2 ordered steps once', () => {
    const deals = orderedPartitions(4, 2, 2, 100);
    expect(deals).to.have.length(6);
    expect(new Set(deals.map((d) => d.join())).size).to.equal(6);
  });

  it('screens each label multiset dealt each way over the steps once', () => {
    const deals = orderedPartitions(4, 2, 2, 100);
    // Repeated labels: {1,1 | 2,2}, {1,2 | 1,2}, {2,2 | 1,1}.
    expect(screeningOptions([[1, 1, 2, 2]], deals, 2)).to.deep.equal([
      [1, 1, 2, 2],
      [1, 2, 1, 2],
      [2, 2, 1, 1],
    ]);
    expect(screeningOptions([[1, 2, 3, 4]], deals, 2)).to.have.length(6);
    // Deal-major: the first options put every candidate's first deal before anyone's second, so a cap
    // at the first 24 of 4 steps × batch 1's 24 deals × 2 candidates still screens the alternative.
    const single = orderedPartitions(4, 4, 1, 100);
    expect(single).to.have.length(24);
    const capped = screeningOptions(
      [
        [1, 2, 3, 4],
        [1, 2, 3, 5],
      ],
      single,
      1,
    ).slice(0, 24);
    expect(capped.slice(0, 2)).to.deep.equal([single[0].map((i) => [1, 2, 3, 4][i]), single[0].map((i) => [1, 2, 3, 5][i])]);
    expect(capped.filter((o) => o.includes(5))).to.have.length(12);
    // fedsgd: one deal, one option per candidate; a candidate equal to an earlier one adds nothing.
    expect(
      screeningOptions(
        [
          [3, 4, 6, 7],
          [4, 4, 6, 7],
          [3, 4, 6, 7],
        ],
        [[0, 1, 2, 3]],
        4,
      ),
    ).to.deep.equal([
      [3, 4, 6, 7],
      [4, 4, 6, 7],
    ]);
  });

  it('refuses fedavg updates whose step structure it cannot unroll, naming why', () => {
    const { input } = scenario(ds, { model: mlp, steps: 2, batchSize: 2, kind: 'weight-delta', iterations: 1, seed: 1 });
    expect(() => unrollPlan({ ...input, payload: { ...input.payload, training: { ...input.payload.training, localEpochs: 1 } } })).to.throw(
      /localEpochs > 0 is not supported/,
    );
    expect(() => unrollPlan({ ...input, observed: { ...input.observed, numExamples: 3 } })).to.throw(
      /declared 3 examples, but 2 local steps × batch 2 = 4/,
    );
  });
});
