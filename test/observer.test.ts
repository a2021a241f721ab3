import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { scenarioSchema, type Scenario } from '../server/scenario/schema';
import type { AttackRecord } from '../server/report/results';
import { createObserver, type Observer } from '../server/observer/observer';
import { attackInput } from '../server/observer/attack-input';
import { trainingConfig } from '../server/strategy/payload';
import { definitionFor } from '../shared/models/definition';
import type { ServerPayload } from '../shared/contract';
import { AttackWorkerPool } from '../server/observer/worker-pool';
import type { EvaluationChannel, GroundTruth, ObservedUpdate } from '../server/observer/hook';
import type { AttackInput } from '../server/observer/attacks/types';
import { createRunEvents, type AttackProgressEvent } from '../server/report/events';
import { CHANNEL, type StartedMessage } from './fixtures/observer-attacks';
import { initBackend } from '../shared/tensor/backend';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../shared/models';
import { loadMnist } from '../shared/data/mnist';
import { Rng } from '../shared/random';
import { parameterGradients } from '../server/observer/gradient-matching';

const PLUGIN = path.join(__dirname, 'fixtures', 'observer-attacks.js');
const SHAPE: [number, number, number] = [4, 4, 1];
const PIXELS = 16;

/** Exactly what an attack may see; any ground-truth field added here would be a leak. */
const ATTACK_INPUT_KEYS = ['observed', 'payload', 'seed', 'settings'];

function scenario(attack: Record<string, unknown> = {}): Scenario {
  return scenarioSchema.parse({ name: 'observer-test', seed: 11, model: { name: 'mlp', hidden: [4] }, attack: { name: 'dlg', ...attack } });
}

/** An update whose first two values steer the test attacks' output (pixel value, label). */
function update(round: number, clientId: string, pixel: number, label: number): ObservedUpdate {
  const values = new Float32Array(32).fill(0.01);
  values[0] = pixel;
  values[1] = label;
  return { round, sender: clientId, update: values, kind: 'gradient', numExamples: 1, view: 'plain', bytes: 0 };
}

/** What the server sent in `round` (a 32-value θ of zeros: the test attacks read only the update). */
function payload(round: number): ServerPayload {
  const s = scenario();
  return { round, model: definitionFor(s.model, SHAPE, 10), params: new Float32Array(32), training: trainingConfig(s.federation) };
}

function see(o: Observer, u: ObservedUpdate): void {
  o.observe(u, payload(u.round));
}

/** Stands in for the coordinator's evaluation messages; remembers who asked for what. */
class FakeEvaluation implements EvaluationChannel {
  readonly requests: string[] = [];
  constructor(private readonly truths: Record<string, { pixel: number; label: number }>) {}
  async fetchTruth(round: number, clientId: string): Promise<GroundTruth> {
    this.requests.push(`${round}/${clientId}`);
    const t = this.truths[clientId];
    if (!t) throw new Error(`client ${clientId} is gone`);
    return { images: new Float32Array(PIXELS).fill(t.pixel), labels: [t.label], count: 1 };
  }
}

function byTarget(records: AttackRecord[]): Record<string, AttackRecord> {
  return Object.fromEntries(records.map((r) => [r.target, r]));
}

describe('observer', function () {
  this.timeout(60000);
  let dir: string;
  let observer: Observer | null = null;
  /** Closed after each test, also a failed one: an open channel would keep mocha alive. */
  let openChannel: BroadcastChannel | null = null;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-observer-'));
  });
  afterEach(async () => {
    openChannel?.close();
    openChannel = null;
    await observer?.close();
    observer = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('attacks two clients in parallel in two workers, from server-side data only, scored against the evaluation channel', async () => {
    // Each test-rendezvous attack blocks until "release", sent only once two have started: with
    // fewer than two concurrent workers this test never finishes.
    const channel = new BroadcastChannel(CHANNEL);
    openChannel = channel;
    const started: StartedMessage[] = [];
    const bothStarted = new Promise<void>((resolve) => {
      channel.onmessage = (event) => {
        const msg = (event as MessageEvent).data as StartedMessage;
        if (msg.kind !== 'started') return;
        started.push(msg);
        if (started.length === 2) resolve();
      };
    });
    const evaluation = new FakeEvaluation({ c0: { pixel: 0.25, label: 3 }, c1: { pixel: 0.5, label: 6 } });
    const events = createRunEvents();
    const progress: AttackProgressEvent[] = [];
    events.on('attack-progress', (e) => progress.push(e));
    const done: string[] = [];
    events.on('attack-done', (e) => done.push(e.imageFile ?? ''));
    observer = createObserver({
      scenario: scenario({ workers: 2 }),
      outDir: dir,
      evaluation,
      events,
      plugins: [PLUGIN],
      attackName: 'test-rendezvous',
    });

    see(observer, update(1, 'c0', 0.25, 3));
    see(observer, update(1, 'c1', 0.75, 5));
    see(observer, update(2, 'c0', 0.9, 1)); // round 2 is not in attack.rounds
    await bothStarted;
    expect(evaluation.requests, 'no ground truth while attacks run').to.deep.equal([]);
    channel.postMessage({ kind: 'release' });
    const records = await observer.drain();

    expect(new Set(started.map((s) => s.threadId)).size).to.equal(2);
    for (const s of started) expect(s.keys).to.deep.equal(ATTACK_INPUT_KEYS);
    expect(started.map((s) => s.updateHead[0]).sort()).to.deep.equal([0.25, 0.75]);
    expect(started[0].seed).to.not.equal(started[1].seed);

    expect(records.map((r) => `${r.round}/${r.target}`)).to.deep.equal(['1/c0', '1/c1']);
    expect(evaluation.requests.sort()).to.deep.equal(['1/c0', '1/c1']);
    const { c0, c1 } = byTarget(records);
    expect(c0.mse).to.equal(0);
    expect(c0.labelAccuracy).to.equal(1);
    expect(c1.mse).to.be.closeTo(0.0625, 1e-7); // reconstruction 0.75 vs truth 0.5
    expect(c1.psnr).to.be.closeTo(10 * Math.log10(16), 1e-4);
    expect(c1.labelAccuracy).to.equal(0);
    expect(c1.recoveredLabels).to.deep.equal([5]);
    expect(c1.trueLabels).to.deep.equal([6]);
    expect(c1.perImage).to.have.length(1);
    expect(c1.perImage?.[0].original).to.equal(0);
    expect(c1.perImage?.[0].mse).to.be.closeTo(0.0625, 1e-7);
    expect(c1.perImage?.[0].psnr).to.be.closeTo(10 * Math.log10(16), 1e-4);
    expect([c1.iterations, c1.evaluations, c1.finalObjective, c1.attack, c1.view, c1.batchSize]).to.deep.equal([
      7,
      9,
      0.125,
      'test-rendezvous',
      'plain',
      1,
    ]);
    expect(c1.image).to.equal('images/round-1-c1-plain.png');
    const png = PNG.sync.read(fs.readFileSync(path.join(dir, c1.image as string)));
    expect(png.width).to.be.greaterThan(0);
    expect(done.sort()).to.deep.equal([path.join(dir, 'images', 'round-1-c0-plain.png'), path.join(dir, 'images', 'round-1-c1-plain.png')]);

    // Progress events reach the main thread, tagged with their job.
    expect(progress.filter((p) => p.target === 'c1').map((p) => `${p.iteration}/${p.total}`)).to.deep.equal(['1/7', '7/7']);
    expect(observer.traces().get('round-1-c1-plain')).to.deep.equal([
      [1, 1],
      [7, 0.125],
    ]);
  });

  it('turns a throwing attack into an error record and keeps serving later jobs', async () => {
    const evaluation = new FakeEvaluation({ c0: { pixel: 0.25, label: 3 }, c1: { pixel: 0.5, label: 6 } });
    const lines: string[] = [];
    const a = createObserver({
      scenario: scenario({ workers: 1 }),
      outDir: dir,
      evaluation,
      plugins: [PLUGIN],
      attackName: 'test-throws',
      log: (l) => lines.push(l),
    });
    observer = a;
    see(a, update(1, 'c0', 0.25, 3));
    const [failed] = await a.drain();
    expect(failed.error).to.match(/deliberate failure in test-throws/);
    expect(failed.mse).to.be.NaN;
    expect(failed.target).to.equal('c0');
    expect(lines.join('\n')).to.match(/round 1, c0 \(plain\): attack test-throws failed: deliberate failure/);
    expect(evaluation.requests, 'no truth is fetched for a failed attack').to.deep.equal([]);

    // The same pool still runs attacks after the failure.
    const pool = new AttackWorkerPool({ size: 1, plugins: [PLUGIN] });
    try {
      const input = attackInput(update(1, 'c1', 0.5, 2), payload(1), { settings: scenario().attack, seed: 1 });
      await pool.run('test-throws', input).then(
        () => expect.fail('test-throws resolved'),
        (err: Error) => expect(err.message).to.match(/deliberate failure/),
      );
      const out = await pool.run('test-echo', input);
      expect(out.labels).to.deep.equal([2]);
      expect(input.observed.update.length, 'the caller keeps its arrays (copies are transferred)').to.equal(32);
      await pool.run('test-crash', input).then(
        () => expect.fail('test-crash resolved'),
        (err: Error) => expect(err.message).to.match(/attack worker exited with code 3/),
      );
      expect((await pool.run('test-echo', input)).labels, 'a new worker replaces the dead one').to.deep.equal([2]);
      const unclonable = { ...input, settings: { ...input.settings, hook: () => 1 } } as unknown as AttackInput;
      await pool.run('test-echo', unclonable).then(
        () => expect.fail('an input with a function resolved'),
        (err: Error) => expect(err.message).to.match(/attack input cannot be sent to a worker/),
      );
      await pool.run('no-such-attack', input).then(
        () => expect.fail('unknown attack resolved'),
        (err: Error) => expect(err.message).to.match(/unknown attack "no-such-attack"/),
      );
    } finally {
      await pool.close();
    }
  });

  it('keeps a reconstruction whose ground truth is missing, unscored (not an error, not a crash)', async () => {
    observer = createObserver({
      scenario: scenario({ workers: 1 }),
      outDir: dir,
      evaluation: new FakeEvaluation({}),
      plugins: [PLUGIN],
      attackName: 'test-echo',
      log: () => {},
    });
    see(observer, update(1, 'c7', 0.25, 3));
    const [record] = await observer.drain();
    expect(record.error).to.equal(undefined);
    expect(record.unscored).to.match(/not scored: no ground truth \(client c7 is gone/);
    expect([record.psnr, record.ssim, record.labelAccuracy].every(Number.isNaN)).to.equal(true);
    expect(record.iterations).to.equal(7);
    expect(fs.existsSync(path.join(dir, record.image ?? 'none'))).to.equal(true);
  });

  it('with maxTargets picks the same targets whatever the arrival order', async () => {
    const pick = async (order: string[]) => {
      const truths = Object.fromEntries([...order, 'aggregate'].map((id) => [id, { pixel: 0.5, label: 1 }]));
      const o = createObserver({
        scenario: scenario({ workers: 1, maxTargets: 2, rounds: [1, 2] }),
        outDir: dir,
        evaluation: new FakeEvaluation(truths),
        plugins: [PLUGIN],
        attackName: 'test-echo',
      });
      try {
        for (const id of order) see(o, update(1, id, 0.5, 1));
        see(o, { ...update(1, 'aggregate', 0.5, 1), view: 'aggregate' });
        for (const id of order) see(o, update(2, id, 0.5, 1));
        return (await o.drain()).map((r) => `${r.round}/${r.target}`);
      } finally {
        await o.close();
      }
    };
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    const forward = await pick(ids);
    expect(forward.filter((t) => t.startsWith('1/c'))).to.have.length(2);
    expect(forward).to.include('1/aggregate'); // not a client update: always attacked
    expect(forward.filter((t) => t.startsWith('2/'))).to.have.length(2);
    expect(await pick([...ids].reverse())).to.deep.equal(forward);
  });

  it('fails every job with a clear error when a plug-in does not load', async () => {
    const pool = new AttackWorkerPool({ size: 2, plugins: [path.join(dir, 'missing-plugin.js')] });
    try {
      const input: AttackInput = attackInput(update(1, 'c0', 0.5, 1), payload(1), { settings: scenario().attack, seed: 1 });
      const results = await Promise.allSettled([pool.run('dlg', input), pool.run('dlg', input)]);
      for (const r of results) {
        expect(r.status).to.equal('rejected');
        expect((r as PromiseRejectedResult).reason.message).to.match(/attack plug-in .*missing-plugin\.js does not load/);
      }
    } finally {
      await pool.close();
    }
  });

  it('runs a real attack (analytic) on real MNIST gradients in the workers and scores it', async () => {
    await initBackend({ quiet: true });
    const data = loadMnist();
    const shape = data.shape;
    const size = shape[0] * shape[1] * shape[2];
    const s = scenarioSchema.parse({
      name: 'observer-analytic',
      seed: 3,
      model: { name: 'mlp', hidden: [32], activation: 'sigmoid' },
      attack: { name: 'analytic', workers: 2 },
    });
    const model = buildModel(s.model, shape, data.numClasses);
    const globalParams = model.initParams(new Rng(3).fork('model-init'));
    const truths: Record<string, GroundTruth> = {};
    const updates = [0, 1].map((k) => {
      const clientId = `c${k}`;
      const image = data.images.slice(k * size, (k + 1) * size);
      truths[clientId] = { images: image, labels: [data.labels[k]], count: 1 };
      const gradient = tf.tidy(() => {
        const params = unflattenParams(globalParams, model.specs);
        const grads = parameterGradients(
          model,
          params,
          tf.tensor4d(image, [1, ...shape]) as Tensor4D,
          oneHot([data.labels[k]], data.numClasses),
        );
        return flattenParams(grads, model.specs);
      });
      const u: ObservedUpdate = { round: 1, sender: clientId, update: gradient, kind: 'gradient', numExamples: 1, view: 'plain', bytes: 0 };
      return u;
    });
    const evaluation: EvaluationChannel = { fetchTruth: async (_round, clientId) => truths[clientId] };
    observer = createObserver({ scenario: s, outDir: dir, evaluation });
    const sent: ServerPayload = {
      round: 1,
      model: definitionFor(s.model, shape, data.numClasses),
      params: globalParams,
      training: trainingConfig(s.federation),
    };
    for (const u of updates) observer.observe(u, sent);
    const records = await observer.drain();
    expect(records.map((r) => r.target)).to.deep.equal(['c0', 'c1']);
    for (const r of records) {
      expect(r.error).to.equal(undefined);
      expect(r.labelAccuracy, `label of ${r.target}`).to.equal(1);
      // Exact up to float error (a random image in [0,1] scores about 5 dB against a digit).
      expect(r.psnr, `PSNR of ${r.target}`).to.be.greaterThan(60);
      expect(fs.existsSync(path.join(dir, r.image as string))).to.equal(true);
    }
  });
});
