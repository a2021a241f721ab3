/**
 * The release step inside `fedleak run` (issue 17): a reduced model-inversion-mnist as a real
 * process writes release.attacks into results.json; in-process, the API the run served refuses
 * connections once the run has returned; federation.weightDecay reaches the clients' training.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario, validateScenario } from '../server/scenario/load';
import { runScenario } from '../server/run';
import { loadReleasedModel, type MiFaceAttackRecord } from '../server/release';
import type { RunResults } from '../server/report/results';

// dist/test → repository root
const ROOT = path.resolve(__dirname, '..', '..');
const FEDLEAK = path.join(ROOT, 'bin', 'fedleak.js');
const SCENARIOS = path.join(ROOT, 'scenarios');

function fedleak(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FEDLEAK, ...args], { timeout: 240000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

/** The built-in scenario shrunk to seconds: 600 digits, one round, few steps, two classes. */
function reducedModelInversion(dir: string): string {
  interface Raw {
    data: Record<string, unknown>;
    federation: Record<string, unknown>;
    release: Record<string, unknown>;
    sweep: unknown[];
  }
  const raw = JSON.parse(fs.readFileSync(path.join(SCENARIOS, 'model-inversion-mnist.json'), 'utf8')) as Raw;
  raw.data.limit = 600;
  raw.federation.rounds = 1;
  raw.federation.clients = 4;
  raw.federation.clientsPerRound = 4;
  raw.federation.clientsPerProcess = 4;
  raw.release.evaluator = { epochs: 1 };
  raw.release.benignQueries = 40;
  raw.release.attacks = [
    { name: 'mi-face', access: 'white-box', classes: [0, 1], iterations: 30 },
    { name: 'mi-face', access: 'black-box', classes: [0], iterations: 4 },
    { name: 'mi-face', access: 'black-box', classes: [0], iterations: 4, masking: { mode: 'label-only' } },
  ];
  raw.sweep = raw.sweep.slice(0, 1);
  const file = path.join(dir, 'mi-reduced.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  return file;
}

describe('release step of fedleak run (real processes, real HTTP)', function () {
  this.timeout(300000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-release-integration-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the built-in release scenarios validate', () => {
    for (const name of ['model-inversion-mnist', 'full-audit-mnist', 'release-defence-sweep']) {
      const { scenario } = loadScenario(name);
      expect(scenario.release, name).to.not.equal(undefined);
      expect(scenario.release?.attacks.length, name).to.be.above(0);
    }
    expect(() => validateScenario({ name: 'x', release: { attacks: [{ name: 'mi-face', access: 'grey-box' }] } }, 'bad.json')).to.throw(
      /release\.attacks\.0\.access/,
    );
  });

  it('a reduced model-inversion-mnist writes release.attacks into results.json and exits (the API is closed)', async () => {
    const out = path.join(dir, 'mi');
    const run = await fedleak(['run', reducedModelInversion(dir), '-o', out]);
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const attacks = (results.release?.attacks ?? []).filter((a): a is MiFaceAttackRecord => a.attack === 'mi-face');
    expect(attacks.map((a) => [a.access, a.masking, a.variant])).to.deep.equal([
      ['white-box', 'full', 'softmax'],
      ['black-box', 'full', 'softmax'],
      ['black-box', 'label-only', 'softmax'],
    ]);
    for (const a of attacks) {
      expect(a).to.include.keys(
        'attack',
        'access',
        'masking',
        'classAccuracy',
        'perClass',
        'queries',
        'flagged',
        'flaggedAfterQueries',
        'seconds',
      );
      expect(a.classAccuracy).to.be.within(0, 1);
      expect(fs.existsSync(path.join(out, a.image as string)), a.image).to.equal(true);
    }
    expect(attacks[0].perClass.map((c) => c.label)).to.deep.equal([0, 1]);
    expect(attacks[0].queries).to.equal(0);
    // Black-box: every step is 1 + 20 directions through HTTP.
    expect(attacks[1].queries).to.be.at.least(21);
    expect(results.release?.monitor?.benignQueries).to.equal(40);
    expect(results.sweep?.[0].release?.length).to.equal(3);
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).to.include('## Released model');
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).to.include('id="released-model"');
    expect(fs.existsSync(path.join(out, 'softmax', 'release', 'model.params.f32'))).to.equal(true);
  });

  it('in-process: the API the run served (its URL in the log) refuses connections once the run returns', async () => {
    const file = reducedModelInversion(dir);
    const lines: string[] = [];
    const loaded = loadScenario(file, ['release.attacks=[]', 'release.benignQueries=0']);
    delete loaded.scenario.sweep;
    await runScenario(loaded, { outDir: path.join(dir, 'inproc'), progress: false, log: (l) => lines.push(l) });
    const served = lines.map((l) => /model served on (http:\/\/[^\s/]+)/.exec(l)).find((m) => m);
    expect(served, lines.join('\n')).to.not.equal(undefined);
    const error = await fetch(`${served?.[1]}/v1/model`).then(
      () => null,
      (err: Error) => err,
    );
    expect(error, 'the API still answers after the run').to.be.instanceOf(Error);
  });

  it('federation.weightDecay shrinks the released model (real client processes)', async () => {
    const file = reducedModelInversion(dir);
    const norms: number[] = [];
    for (const decay of [0, 2]) {
      const out = path.join(dir, `decay-${decay}`);
      const loaded = loadScenario(file, [
        'release.attacks=[]',
        'release.benignQueries=0',
        'release.api.enabled=false',
        `federation.weightDecay=${decay}`,
      ]);
      delete loaded.scenario.sweep;
      await runScenario(loaded, { outDir: out, progress: false, log: () => undefined });
      const { params } = loadReleasedModel(out);
      norms.push(Math.sqrt(params.reduce((s, v) => s + v * v, 0)));
    }
    // One epoch of lr 0.1 with λ = 2 multiplies θ by 0.8 per step: far smaller, not a rounding difference.
    expect(norms[1]).to.be.below(0.5 * norms[0]);
  });
});
