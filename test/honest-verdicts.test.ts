/**
 * Honest verdicts (issue 15), as real `fedleak run` processes: attacks refused before training for a
 * missing capability or an incompatible model, exit 3 when every attack failed, and the secure
 * aggregate attacked as a batch of every example behind it.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResults } from '../server/report/results';
import { attackedSlots, MAX_DUMMY_BATCH } from '../server/observer/attacks/dlg';
import type { AttackInput } from '../server/observer/attacks/types';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fedleak(args: string[], cwd: string): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const small = {
  seed: 4,
  data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 80, testFraction: 0.2 },
  model: { name: 'mlp', hidden: [4] },
  federation: { clients: 3, clientsPerRound: 3, rounds: 1, algorithm: 'fedsgd', batchSize: 2, learningRate: 0.1 },
};

describe('honest verdicts (real processes)', function () {
  this.timeout(180000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-verdicts-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function scenarioFile(name: string, body: Record<string, unknown>): string {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ name, ...small, ...body }));
    return file;
  }

  it('refuses, before any training, an attack needing a capability the threat model does not grant', async () => {
    const file = scenarioFile('threat-a', { threatModel: 'A', attack: { name: 'dlg', iterations: 1 } });
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', file, '--out', out, '-q'], dir);
    expect(r.code).to.not.equal(0);
    expect(r.stderr)
      .to.match(/threatModel: attack "dlg" needs architecture/)
      .and.match(/hyperparameters/);
    expect(fs.existsSync(path.join(out, 'results.json'))).to.equal(false);
    expect(r.stderr).not.to.match(/round 1/);
  });

  it('refuses --set attack.name=analytic on lenet-zhu before training', async () => {
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', 'dlg-mnist', '--set', 'attack.name=analytic', '--out', out, '-q'], ROOT);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/"analytic" cannot attack this model: model "lenet-zhu" has no dense first layer/);
    expect(fs.existsSync(path.join(out, 'results.json'))).to.equal(false);
  });

  it('exits 3 when every attack failed', async () => {
    fs.writeFileSync(
      path.join(dir, 'broken.js'),
      `const { z } = require(${JSON.stringify(require.resolve('zod'))});
exports.attack = { name: 'broken', settings: z.strictObject({}), run: async () => { throw new Error('broken on purpose'); } };`,
    );
    const file = scenarioFile('all-fail', { attack: { name: 'broken', plugin: './broken.js' } });
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', file, '--out', out, '-q'], dir);
    expect(r.stderr).to.match(/every attack failed \(3\)/);
    expect(r.code).to.equal(3);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.attacks.every((a) => /broken on purpose/.test(a.error ?? ''))).to.equal(true);
  });

  it('attacks the secure aggregate as one batch of every example behind it (slots = Σ examples)', async () => {
    const file = scenarioFile('aggregate-size', {
      attack: { name: 'dlg', iterations: 1 },
      defenses: { secureAggregation: { threshold: 0.67, views: ['aggregate'] } },
    });
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', file, '--out', out, '-q'], dir);
    expect(r.code, r.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const aggregate = results.attacks.find((a) => a.view === 'aggregate');
    expect(aggregate, JSON.stringify(results.attacks)).to.not.equal(undefined);
    // 3 clients × batch 2: six examples behind the aggregate, six dummy slots, six recovered labels.
    expect(aggregate?.batchSize).to.equal(6);
    expect(aggregate?.attackedSlots).to.equal(6);
    expect(aggregate?.truncated).to.equal(undefined);
    expect(aggregate?.recoveredLabels).to.have.length(6);
    expect(aggregate?.threatModel).to.deep.include({ name: 'C', required: ['updates', 'architecture', 'hyperparameters'] });
  });

  it('runs cocktail-party on the secure aggregate, one source per example behind it', async () => {
    const file = scenarioFile('cocktail-aggregate', {
      model: { name: 'mlp', hidden: [24] },
      attack: { name: 'cocktail-party', iterations: 20 },
      defenses: { secureAggregation: { threshold: 0.67, views: ['aggregate'] } },
    });
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', file, '--out', out, '-q'], dir);
    expect(r.code, r.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const [record] = results.attacks;
    expect(record.error).to.equal(undefined);
    expect(record).to.deep.include({ attack: 'cocktail-party', view: 'aggregate', batchSize: 6 });
    // Fewer sources than examples only when the mixtures' rank says so, and then recorded.
    expect(record.attackedSlots === 6 || record.truncated === true).to.equal(true);
    expect(results.verdict?.sentence).to.match(/under threat model C .* with defences secure aggregation/);
  });

  it('writes a truth file beside each capture, so fedleak attack --capture … --truth … scores offline', async () => {
    const file = scenarioFile('capture-truth', {
      federation: { ...small.federation, clients: 2, clientsPerRound: 2, batchSize: 1, capture: true },
      attack: { name: 'none' },
    });
    const out = path.join(dir, 'out');
    const r = await fedleak(['run', file, '--out', out, '-q'], dir);
    expect(r.code, r.stderr).to.equal(0);
    const capture = path.join(out, 'captures', 'round-1-client-c0.msgpack');
    const truth = path.join(out, 'captures', 'round-1-client-c0.truth.msgpack');
    expect(fs.existsSync(truth), fs.readdirSync(path.join(out, 'captures')).join(', ')).to.equal(true);
    const offline = path.join(dir, 'offline');
    const a = await fedleak(['attack', '--capture', capture, '--attack', 'analytic', '--truth', truth, '--out', offline, '-q'], dir);
    expect(a.code, a.stderr).to.equal(0);
    const record = JSON.parse(fs.readFileSync(path.join(offline, 'attack.json'), 'utf8')) as {
      score: { psnr: number; labelAccuracy: number };
    };
    // One example through a biased dense first layer: analytic recovery is exact, so the truth must be that example.
    expect(record.score.psnr).to.be.at.least(60);
    expect(record.score.labelAccuracy).to.equal(1);
  });
});

describe('aggregate size', () => {
  const training = { algorithm: 'fedsgd', batchSize: 1, localSteps: 1, learningRate: 0.1, localEpochs: 0 };
  const aggregate = (clients: number): AttackInput =>
    ({
      observed: {
        round: 1,
        sender: 'aggregate',
        kind: 'gradient',
        numExamples: clients,
        update: new Float32Array(0),
        view: 'aggregate',
        bytes: 0,
        contributors: Array.from({ length: clients }, (_, i) => `c${i}`),
      },
      payload: { round: 1, training },
      settings: {},
      seed: 1,
    }) as unknown as AttackInput;

  it('counts every contributor example and records a cap as truncated, never silently', () => {
    expect(attackedSlots(aggregate(10), 'dlg')).to.deep.equal({ batchSize: 10, attackedSlots: 10, truncated: false });
    expect(attackedSlots(aggregate(100), 'dlg')).to.deep.equal({ batchSize: 100, attackedSlots: MAX_DUMMY_BATCH, truncated: true });
    // One client's update beyond the cap is refused rather than truncated.
    const client = aggregate(100);
    const plain = {
      ...client,
      observed: { ...client.observed, view: 'plain', sender: 'c0', contributors: undefined },
      payload: { round: 1, training: { ...training, batchSize: 100 } },
    };
    expect(() => attackedSlots(plain as AttackInput, 'dlg')).to.throw(/dlg: the update comes from 100 examples/);
  });
});
