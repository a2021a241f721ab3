/**
 * Another language can reproduce a fedleak client from the docs alone. tools/xlang/fedleak_ref.py is
 * a standard-library Python 3 implementation written from docs/protocol.md, docs/data.md,
 * docs/models.md and docs/defenses.md ("Reproducing a client exactly" and the sections it links);
 * here it runs as a real `python3` process and its answers are compared with fedleak's own
 * functions, and finally with what real client processes send over a real websocket.
 *
 * Exact (bit for bit, index for index): integer and uniform draws, shuffles, samples, fork seeds,
 * split, partitions, shards (image bytes), batch schedules, selection, defended updates (float32),
 * θ₀, synthetic images. Within 1e-14 relative, and at least 85 % of them bit-identical: raw normal /
 * Laplace / gamma doubles, because Node's log/sin/cos/pow are not correctly rounded and CPython uses
 * the platform libm (docs/protocol.md, "Bit-exactness").
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Rng } from '../shared/random';
import { validateScenario } from '../server/scenario/load';
import { scenarioSchema, type DataConfig, type DefensesConfig, type Scenario } from '../server/scenario/schema';
import { clientShard, loadDataset, prepareFederatedData, subset } from '../shared/data';
import { buildModel } from '../shared/models';
import { initFlat } from '../shared/models/init';
import { roundBatches, distinctInOrder, type SchedulePlan } from '../client/schedule';
import { applyClientDefenses } from '../client/mods';
import { roundToFloat16 } from '../client/mods/fp16';
import { initBackend } from '../shared/tensor/backend';
import { runRounds, selectClients, startCoordinator, tokenList, WireEvaluationChannel } from '../server/coordinator';
import { maxFrameBytesFor } from '../server/coordinator/setup';
import type { ObservedUpdate } from '../server/observer/hook';
import { spawnClientProcesses } from '../server/run/spawn';

const SCRIPT = path.resolve(__dirname, '..', '..', 'tools', 'xlang', 'fedleak_ref.py');
const MNIST_DIR = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');

type Task = Record<string, unknown>;

/** Runs the Python reference once (a real process) on a batch of tasks. */
function python<T = unknown>(tasks: Task[]): T[] {
  const run = spawnSync('python3', [SCRIPT], {
    input: JSON.stringify({ tasks, mnistDir: MNIST_DIR }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 ${SCRIPT} exited ${run.status}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { results: T[] }).results;
}

function f32ToB64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function b64ToF32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.length / 4);
  Buffer.from(out.buffer).set(bytes);
  return out;
}

function sha256(values: Float32Array): string {
  return createHash('sha256')
    .update(Buffer.from(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}

/** Indices where two float32 vectors differ in their bits (so −0 ≠ +0, and ∞ compares). */
function bitDiffs(a: Float32Array, b: Float32Array): number[] {
  expect(a.length, 'lengths').to.equal(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) out.push(i);
  return out;
}

function expectSameBits(ours: Float32Array, theirs: Float32Array, what: string): void {
  const diffs = bitDiffs(ours, theirs);
  const first = diffs[0];
  expect(
    diffs,
    `${what}: ${diffs.length} values differ, first at ${first}: fedleak ${ours[first]} vs python ${theirs[first]}`,
  ).to.deep.equal([]);
}

/**
 * Doubles that go through log/sin/cos/pow: equal within 1e-14 relative (see the header). Returns how
 * many are bit-identical: most are, and a formula evaluated in another order (e.g. std·(r·cos)
 * instead of (std·r)·cos) lowers that share from ~95 % to ~80 % while staying within tolerance.
 */
function expectClose(ours: number[], theirs: number[], what: string): number {
  expect(theirs.length, what).to.equal(ours.length);
  let identical = 0;
  ours.forEach((v, i) => {
    const tol = 1e-14 * Math.max(1, Math.abs(v));
    expect(Math.abs(v - theirs[i]), `${what}[${i}]: fedleak ${v} vs python ${theirs[i]}`).to.be.at.most(tol);
    if (Object.is(v, theirs[i])) identical++;
  });
  return identical;
}

function dataConfig(overrides: Partial<DataConfig>): DataConfig {
  return { ...scenarioSchema.parse({ name: 't' }).data, ...overrides };
}

function defensesConfig(overrides: Record<string, unknown>): DefensesConfig {
  return scenarioSchema.parse({ name: 't', defenses: overrides }).defenses;
}

describe('cross-language reproduction (Python from the docs vs fedleak)', function () {
  this.timeout(120000);

  describe('the seeded generator', () => {
    const seeds = [0, 1, 42, 123456789, 4294967295, 2 ** 32 + 5];
    const forkChains = [[], ['data', 'split'], ['batches/client-3/round-12/epoch-0'], [''], ['é✓😀']];
    const draws = [
      ['uint32', 20],
      ['next', 10],
      ['uniform', -0.5, 0.5, 10],
      ['int', 7, 50],
      ['int', 10000, 20],
      ['shuffle', 50],
      ['sample', 30, 7],
      ['normal', 0, 1, 101],
      ['uint32', 3],
      ['normal', 0.25, 0.1, 21],
      ['normal', 0, 0.01, 101],
      ['laplace', 0.3, 50],
      ['gamma', 0.5, 40],
      ['gamma', 2.5, 40],
      ['uint32', 3],
    ] as const;
    const cases = seeds.flatMap((seed) => forkChains.map((forks) => ({ seed, forks })));
    let answers: Array<{ seed: number; draws: unknown[][] }> = [];
    before(() => {
      answers = python(cases.map((c) => ({ op: 'rng', seed: c.seed, forks: c.forks, draws })));
    });

    it('gives the same fork seeds, integers, uniforms, shuffles and samples bit for bit, and the same normal/Laplace/gamma draws to 1e-14', () => {
      // Per draw of the list: how many values were compared, and how many were bit-identical.
      const inexact = new Map<number, { count: number; identical: number }>();
      let drawIndex = 0;
      const close = (ours: number[], theirs: number[], w: string) => {
        const tally = inexact.get(drawIndex) ?? { count: 0, identical: 0 };
        tally.count += ours.length;
        tally.identical += expectClose(ours, theirs, w);
        inexact.set(drawIndex, tally);
      };
      cases.forEach(({ seed, forks }, k) => {
        const what = `seed ${seed}, forks ${JSON.stringify(forks)}`;
        let rng = new Rng(seed);
        for (const f of forks) rng = rng.fork(f);
        const got = answers[k];
        expect(got.seed, `${what}: seed`).to.equal(rng.seed);
        draws.forEach((d, j) => {
          const theirs = got.draws[j] as number[];
          const w = `${what}: draw ${j} (${d[0]})`;
          drawIndex = j;
          switch (d[0]) {
            case 'uint32':
              return expect(theirs, w).to.deep.equal(Array.from({ length: d[1] }, () => rng.nextUint32()));
            case 'next':
              return expect(theirs, w).to.deep.equal(Array.from({ length: d[1] }, () => rng.next()));
            case 'uniform':
              return expect(theirs, w).to.deep.equal(Array.from({ length: d[3] }, () => rng.uniform(d[1], d[2])));
            case 'int':
              return expect(theirs, w).to.deep.equal(Array.from({ length: d[2] }, () => rng.int(d[1])));
            case 'shuffle':
              return expect(theirs, w).to.deep.equal(rng.shuffle(Array.from({ length: d[1] }, (_, i) => i)));
            case 'sample':
              return expect(theirs, w).to.deep.equal(rng.sample(d[1], d[2]));
            case 'normal':
              return close(
                Array.from({ length: d[3] }, () => rng.normal(d[1], d[2])),
                theirs,
                w,
              );
            case 'laplace':
              return close(
                Array.from({ length: d[2] }, () => rng.laplace(d[1])),
                theirs,
                w,
              );
            case 'gamma':
              return close(
                Array.from({ length: d[2] }, () => rng.gamma(d[1])),
                theirs,
                w,
              );
          }
        });
      });
      for (const [j, { count, identical }] of inexact) {
        expect(identical / count, `draw ${j} (${draws[j][0]}): ${identical} of ${count} bit-identical`).to.be.at.least(0.85);
      }
    });
  });

  describe('data, shards and batches', () => {
    const plans: SchedulePlan[] = [
      { algorithm: 'fedsgd', batchSize: 4, localSteps: 1, localEpochs: 0 },
      { algorithm: 'fedavg', batchSize: 3, localSteps: 1, localEpochs: 2 },
      { algorithm: 'fedavg', batchSize: 16, localSteps: 9, localEpochs: 0 },
    ];
    const cases: Array<{ data: DataConfig; clients: number; seed: number; plan: SchedulePlan }> = [
      { data: dataConfig({}), clients: 5, seed: 3, plan: plans[0] },
      { data: dataConfig({ partition: 'dirichlet', alpha: 0.5, limit: 2000 }), clients: 8, seed: 11, plan: plans[2] },
      // Tiny α: redraws, then single examples moved from the largest shards to the empty ones.
      { data: dataConfig({ partition: 'dirichlet', alpha: 0.01, limit: 100, testFraction: 0.25 }), clients: 30, seed: 1, plan: plans[1] },
      // α = 1e-4: every gamma draw of a class can underflow to 0 (the one-random-winner fallback).
      // (and 9 steps of 16 exceed the largest shard: E in maxFrameBytes is capped by it)
      { data: dataConfig({ partition: 'dirichlet', alpha: 1e-4, limit: 60 }), clients: 3, seed: 2, plan: plans[2] },
      {
        data: dataConfig({ partition: 'by-class', classesPerClient: 3, limit: 3001, testFraction: 0.1 }),
        clients: 7,
        seed: 5,
        plan: plans[2],
      },
      // 50 · 0.25 = 12.5: the test set takes 13 (Math.round), not 12 (round half to even).
      {
        data: dataConfig({ dataset: 'synthetic', shape: [5, 5, 1], classes: 3, size: 50, testFraction: 0.25 }),
        clients: 4,
        seed: 9,
        plan: plans[1],
      },
      {
        data: dataConfig({ dataset: 'synthetic', shape: [6, 4, 3], classes: 4, size: 30, partition: 'by-class', classesPerClient: 2 }),
        clients: 3,
        seed: 77,
        plan: plans[0],
      },
    ];
    const rounds = [1, 2, 7];
    interface ClientAnswer {
      labels: number[];
      imagesSha256: string;
      rounds: Array<{ batches: number[][]; used: number[]; usedLabels: number[]; usedImagesSha256: string }>;
    }
    interface Answer {
      trainIdx: number[];
      testIdx: number[];
      shards: number[][];
      fullLabels: number[];
      fullSha256?: string;
      fullImages?: string;
      clients: ClientAnswer[];
      maxFrameBytes: number;
    }
    let answers: Answer[] = [];
    before(() => {
      answers = python<Answer>(
        cases.map((c) => ({
          op: 'federated',
          data: c.data,
          clients: c.clients,
          seed: c.seed,
          plan: c.plan,
          rounds,
          fullImages: c.data.dataset === 'synthetic',
          federation: c.plan,
          paramCount: 1000,
        })),
      );
    });

    it('loads the same dataset (MNIST bytes and order; synthetic images bit for bit)', () => {
      cases.forEach((c, k) => {
        const full = loadDataset(c.data, c.seed);
        expect(answers[k].fullLabels, `case ${k}: labels`).to.deep.equal(Array.from(full.labels));
        const theirs = answers[k].fullImages;
        if (theirs !== undefined) expectSameBits(full.images, b64ToF32(theirs), `case ${k}: synthetic images`);
        else expect(answers[k].fullSha256, `case ${k}: MNIST image bytes`).to.equal(sha256(full.images));
      });
    });

    it('splits and partitions identically, so every client gets the same shard (image bytes and labels)', () => {
      cases.forEach((c, k) => {
        const what = `case ${k} (${c.data.dataset}, ${c.data.partition}, ${c.clients} clients, seed ${c.seed})`;
        const ours = prepareFederatedData(c.data, c.clients, c.seed);
        const a = answers[k];
        expect(a.testIdx.length, what).to.equal(ours.test.labels.length);
        expect(a.shards, `${what}: shards`).to.deep.equal(ours.shards);
        for (let i = 0; i < c.clients; i++) {
          const shard = clientShard(c.data, c.clients, i, c.seed);
          expect(a.clients[i].labels, `${what}: client ${i} labels`).to.deep.equal(Array.from(shard.labels));
          expect(a.clients[i].imagesSha256, `${what}: client ${i} image bytes`).to.equal(sha256(shard.images));
        }
        const full = loadDataset(c.data, c.seed);
        expect(sha256(subset(full, a.trainIdx).images), `${what}: train order`).to.equal(sha256(ours.train.images));
        expect(sha256(subset(full, a.testIdx).images), `${what}: test set`).to.equal(sha256(ours.test.images));
      });
    });

    it('draws the same batches in every round, and the same maxFrameBytes bound', () => {
      cases.forEach((c, k) => {
        const ours = prepareFederatedData(c.data, c.clients, c.seed);
        const scenario = validateScenario(
          { name: 't', seed: c.seed, data: c.data, federation: { clients: c.clients, clientsPerRound: c.clients, ...c.plan } },
          'xlang test',
        );
        const largest = Math.max(...ours.shards.map((s) => s.length));
        const pixels = ours.train.shape[0] * ours.train.shape[1] * ours.train.shape[2];
        expect(answers[k].maxFrameBytes, `case ${k}: maxFrameBytes`).to.equal(maxFrameBytesFor(scenario, 1000, pixels, largest));
        ours.shards.forEach((s, i) => {
          rounds.forEach((r, j) => {
            const batches = roundBatches(s.length, c.plan, c.seed, i, r);
            const theirs = answers[k].clients[i].rounds[j];
            expect(theirs.batches, `case ${k}, client ${i}, round ${r}`).to.deep.equal(batches);
            expect(theirs.used).to.deep.equal(distinctInOrder(batches));
          });
        });
      });
    });

    it('selects the same participants', () => {
      const tasks = [
        [10, 3, 1, 1],
        [10, 3, 1, 2],
        [20, 7, 42, 5],
        [5, 5, 0, 1],
        [4, 9, 0, 1],
      ];
      const theirs = python<number[]>(tasks.map(([connected, k, seed, round]) => ({ op: 'select', connected, k, seed, round })));
      tasks.forEach(([connected, k, seed, round], j) => {
        const ids = Array.from({ length: connected }, (_, i) => `c${i}`);
        expect(
          theirs[j].map((i) => `c${i}`),
          `task ${j}`,
        ).to.deep.equal(selectClients(ids, k, seed, round));
      });
    });
  });

  describe('client defences', () => {
    // With max |x| = 127 the int8 scale is 1: exact halves of both signs, −0, and ties for pruning.
    const INT8_EDGES = [127, 0.5, -0.5, 2.5, -2.5, 1.5, -1.5, 0, -0, 0.25, -0.25, 0.25];
    // fp16 overflow (from 65520), the largest finite half, subnormal halves.
    const FP16_EDGES = [70000, -65519, 65520, 3e-8, -(2 ** -25), 6.1e-5];
    /** A gradient-like update, with the cases the formulas must get right planted in the last tensor. */
    function update(specsLength: number, seed: number): Float32Array {
      const u = new Rng(seed).fork('xlang-update').fillNormal(new Float32Array(specsLength), 0, 0.05);
      // repeated magnitudes (pruning ties), zeros of both signs, int8 exact halves, fp16 overflow/subnormals
      const planted = [...INT8_EDGES, ...FP16_EDGES];
      u.set(planted, specsLength - planted.length);
      return u;
    }
    const lenet = buildModel(scenarioSchema.parse({ name: 't' }).model, [28, 28, 1], 10).specs;
    const specs = [...lenet, { name: 'int8-edges', shape: [INT8_EDGES.length] }, { name: 'fp16-edges', shape: [FP16_EDGES.length] }];
    const total = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    const configs: Array<Record<string, unknown>> = [
      { clipping: { norm: 1 } },
      { pruning: { fraction: 0.3 } },
      { pruning: { fraction: 0.5 } },
      { noise: { mechanism: 'gaussian', variance: 1e-3 } },
      { noise: { mechanism: 'laplace', variance: 1e-2 } },
      { quantization: { bits: 8 } },
      { quantization: { bits: 16 } },
      { clipping: { norm: 2 }, pruning: { fraction: 0.2 }, noise: { variance: 1e-4 }, quantization: { bits: 8 } },
      {
        order: ['noise', 'pruning', 'quantization'],
        pruning: { fraction: 0.7 },
        noise: { mechanism: 'laplace', variance: 1e-3 },
        quantization: { bits: 16 },
      },
    ];
    const runs = configs.flatMap((config, j) => [
      { config, seed: 1 + j, client: 0, round: 1 },
      { config, seed: 1000 + j, client: 7, round: 13 },
    ]);

    it('give the same defended update, bit for bit, per tensor and in the configured order', () => {
      const inputs = runs.map((r) => update(total, r.seed));
      const theirs = python<string>(
        runs.map((r, k) => ({
          op: 'defend',
          update: f32ToB64(inputs[k]),
          defenses: defensesConfig(r.config),
          seed: r.seed,
          client: r.client,
          round: r.round,
          shapes: specs.map((s) => s.shape),
        })),
      );
      runs.forEach((r, k) => {
        const rng = new Rng(r.seed).fork(`defenses/client-${r.client}/round-${r.round}`);
        const ours = applyClientDefenses(inputs[k], defensesConfig(r.config), rng, specs).update;
        expectSameBits(ours, b64ToF32(theirs[k]), `defences ${JSON.stringify(r.config)} (seed ${r.seed})`);
      });
    });

    it('fp16 rounding agrees on every binade edge, half-way case and subnormal', () => {
      const values: number[] = [];
      for (let e = -26; e <= 16; e++) {
        for (const m of [1, 1 + 2 ** -11, 1 + 2 ** -10 + 2 ** -11, 1.5, 2 - 2 ** -11, 2 - 2 ** -12, 1 + 3 * 2 ** -12])
          values.push(m * 2 ** e, -m * 2 ** e);
      }
      const input = Float32Array.from(values);
      const [theirs] = python<string>([{ op: 'fp16', values: f32ToB64(input) }]);
      expectSameBits(input.map(roundToFloat16), b64ToF32(theirs), 'fp16');
    });
  });

  it('initial parameters θ₀ (uniform and fan-in) are the same bit for bit', () => {
    const convnet = buildModel(
      scenarioSchema.parse({ name: 't', model: { name: 'convnet', channels: [4, 6], hidden: [10] } }).model,
      [8, 8, 3],
      5,
    ).specs;
    const cases = [
      { specs: convnet, scheme: { kind: 'fan-in' as const }, seed: 4 },
      { specs: convnet, scheme: { kind: 'uniform' as const, range: 0.5 }, seed: 2 ** 31 },
    ];
    const theirs = python<string>(cases.map((c) => ({ op: 'init', shapes: c.specs.map((s) => s.shape), scheme: c.scheme, seed: c.seed })));
    cases.forEach((c, k) =>
      expectSameBits(initFlat(c.specs, c.scheme, new Rng(c.seed).fork('model-init')), b64ToF32(theirs[k]), `init ${c.scheme.kind}`),
    );
  });

  describe('against real client processes over a real websocket', () => {
    before(async () => {
      await initBackend({ quiet: true });
    });

    /*
     * Pruning everything and then adding noise makes each sent update a pure function of the noise
     * stream, so the Python can predict it without training; eval.truth shows the examples used.
     */
    it('predicts who is selected, every noise-only update and every eval.truth answer', async () => {
      const scenario: Scenario = validateScenario(
        {
          name: 'xlang',
          seed: 31,
          data: { dataset: 'synthetic', shape: [5, 5, 1], classes: 3, size: 90, partition: 'dirichlet', alpha: 1 },
          model: { name: 'mlp', hidden: [6] },
          federation: { clients: 3, clientsPerRound: 2, rounds: 3, algorithm: 'fedavg', localSteps: 5, batchSize: 4, learningRate: 0.1 },
          defenses: { pruning: { fraction: 1 }, noise: { mechanism: 'gaussian', variance: 1e-2 }, quantization: { bits: 8 } },
          attack: { name: 'none' },
        },
        'xlang test',
      );
      const f = scenario.federation;
      const logs: string[] = [];
      const c = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log: (l) => logs.push(l) });
      const procs = spawnClientProcesses(`ws://127.0.0.1:${c.port}`, tokenList(c.tokens), 3, {
        ...process.env,
        FEDLEAK_QUIET_BACKEND: '1',
      });
      const observed: ObservedUpdate[] = [];
      const truths = new Map<string, { labels: number[]; images: Float32Array }>();
      try {
        await c.hub.waitForReady(f.clients);
        const { rounds } = await runRounds({
          scenario,
          hub: c.hub,
          model: c.model,
          paramCount: c.paramCount,
          test: c.test,
          initialParams: c.initialParams,
          observe: (u) => observed.push(u),
          log: (l) => logs.push(l),
        });
        const channel = new WireEvaluationChannel(c.hub);
        for (const u of observed) {
          const t = await channel.fetchTruth(u.round, u.sender);
          truths.set(`${u.round}/${u.sender}`, { labels: t.labels, images: t.images });
        }
        channel.close();
        expect(
          rounds.every((r) => r.dropped.length === 0),
          logs.join('\n'),
        ).to.equal(true);

        const roundNumbers = [1, 2, 3];
        const specs = c.model.specs;
        const zeros = new Float32Array(c.paramCount);
        const [fed, ...rest] = python<unknown>([
          {
            op: 'federated',
            data: scenario.data,
            clients: f.clients,
            seed: scenario.seed,
            plan: f,
            rounds: roundNumbers,
            federation: f,
            paramCount: c.paramCount,
          },
          ...roundNumbers.map((round) => ({ op: 'select', connected: f.clients, k: f.clientsPerRound, seed: scenario.seed, round })),
          ...observed.map((u) => ({
            op: 'defend',
            update: f32ToB64(zeros),
            defenses: scenario.defenses,
            seed: scenario.seed,
            client: Number(u.sender.slice(1)),
            round: u.round,
            shapes: specs.map((s) => s.shape),
          })),
        ]);
        const selected = rest.slice(0, 3) as number[][];
        const updates = rest.slice(3) as string[];
        const answer = fed as {
          clients: Array<{ rounds: Array<{ used: number[]; usedLabels: number[]; usedImagesSha256: string }> }>;
          maxFrameBytes: number;
        };

        expect(rounds.map((r) => r.participants)).to.deep.equal(selected.map((s) => s.map((i) => `c${i}`)));
        expect(answer.maxFrameBytes).to.equal(c.maxFrameBytes);
        expect(observed).to.have.length(6);
        observed.forEach((u, k) => {
          const client = Number(u.sender.slice(1));
          expectSameBits(u.update, b64ToF32(updates[k]), `round ${u.round} ${u.sender} update as received`);
          const predicted = answer.clients[client].rounds[u.round - 1];
          const truth = truths.get(`${u.round}/${u.sender}`) as { labels: number[]; images: Float32Array };
          expect(u.numExamples).to.equal(predicted.used.length);
          expect(truth.labels, `round ${u.round} ${u.sender} labels`).to.deep.equal(predicted.usedLabels);
          expect(sha256(truth.images), `round ${u.round} ${u.sender} examples`).to.equal(predicted.usedImagesSha256);
        });
      } finally {
        await c.hub.close('test over', 2000);
        await procs.stop(2000);
      }
    });
  });
});
