/**
 * The attack pipeline end to end with real processes: a DP run's capture re-attacked offline gives
 * the live attack's reconstruction, and plug-in attacks named in a scenario or on the command line
 * run in the worker pool and in `fedleak attack` with their own settings validated.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCapture } from '../server/capture/capture';
import type { RunResults } from '../server/report/results';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');

function fedleak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' }, timeout: 180000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

interface OfflineRecord {
  finalObjective: number;
  labels: number[];
  iterations: number;
  evaluations: number;
  seed: number;
  serverClippedTo?: number;
}

describe('attack pipeline (real processes)', function () {
  this.timeout(240000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-pipeline-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a DP run’s capture, re-attacked with fedleak attack --capture, gives the live reconstruction', async () => {
    const C = 0.05;
    const scenario = {
      name: 'dp-capture',
      seed: 4,
      data: { dataset: 'mnist', limit: 200 },
      model: { name: 'mlp', hidden: [16], activation: 'sigmoid' },
      federation: { clients: 2, clientsPerRound: 2, rounds: 1, batchSize: 1, capture: true },
      attack: { name: 'dlg', iterations: 4, workers: 1 },
      defenses: { dp: { clippingNorm: C, noiseMultiplier: 0.5 } },
    };
    const file = path.join(dir, 'dp-capture.json');
    fs.writeFileSync(file, JSON.stringify(scenario));
    const out = path.join(dir, 'dp-run');
    const run = await fedleak(['run', file, '-o', out, '-q']);
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.attacks).to.have.length(2);

    for (const live of results.attacks) {
      expect(live.serverClippedTo).to.equal(C);
      const capture = readCapture(path.join(out, 'captures', `round-1-client-${live.target}.msgpack`));
      // The capture holds the update the server clipped, as the live attack saw it.
      expect(capture.observed.serverClippedTo).to.equal(C);
      expect(l2(capture.observed.update)).to.be.at.most(C * (1 + 1e-6));
      const again = path.join(dir, `again-${live.target}`);
      const offline = await fedleak([
        'attack',
        '--capture',
        path.join(out, 'captures', `round-1-client-${live.target}.msgpack`),
        '-o',
        again,
        '-q',
      ]);
      expect(offline.code, offline.stderr).to.equal(0);
      const record = JSON.parse(fs.readFileSync(path.join(again, 'attack.json'), 'utf8')) as OfflineRecord;
      expect(record.serverClippedTo).to.equal(C);
      expect([record.finalObjective, record.iterations, record.evaluations]).to.deep.equal([
        live.finalObjective,
        live.iterations,
        live.evaluations,
      ]);
      expect(record.labels).to.deep.equal(live.recoveredLabels);
    }
  });
});

/** A plug-in attack module as a user writes it: its own zod schema, run on the contract records. */
function writePlugin(file: string): void {
  const source = `
const { z } = require(${JSON.stringify(require.resolve('zod'))});
exports.attack = {
  name: 'flat-guess',
  settings: z.strictObject({ brightness: z.number().min(0).max(1), label: z.number().int().default(0) }),
  // Guesses a flat image of the configured brightness; reports what it was given so the test can check it.
  run: async ({ observed, payload, settings }, onProgress) => {
    const [h, w, c] = payload.model.inputShape;
    const count = Math.max(1, observed.numExamples);
    onProgress?.({ iteration: 1, objective: settings.brightness, total: 1 });
    return {
      images: new Float32Array(count * h * w * c).fill(settings.brightness),
      count,
      labels: Array.from({ length: count }, () => settings.label),
      iterations: payload.round,
      evaluations: observed.update.length,
      finalObjective: settings.brightness,
      seconds: 0,
    };
  },
};
`;
  fs.writeFileSync(file, source);
}

describe('plug-in attacks (real processes)', function () {
  this.timeout(240000);
  let dir: string;
  const scenario = (settings: Record<string, unknown>) => ({
    name: 'plugin-attack',
    seed: 2,
    data: { dataset: 'mnist', limit: 200 },
    model: { name: 'mlp', hidden: [8] },
    federation: { clients: 2, clientsPerRound: 2, rounds: 1, batchSize: 1, capture: true },
    attack: { name: 'flat-guess', plugin: './plugins/flat-guess.js', settings, workers: 2 },
  });
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-plugin-'));
    fs.mkdirSync(path.join(dir, 'plugins'));
    writePlugin(path.join(dir, 'plugins', 'flat-guess.js'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a plug-in named in a scenario file in the worker pool, then in fedleak attack --plugin', async () => {
    const file = path.join(dir, 'scenario.json');
    fs.writeFileSync(file, JSON.stringify(scenario({ brightness: 0.5, label: 3 })));
    const out = path.join(dir, 'run');
    // The CLI runs in the repository folder: the plug-in path resolves against the scenario file's folder.
    const run = await fedleak(['run', file, '-o', out, '-q']);
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.attacks.map((a) => a.target)).to.deep.equal(['c0', 'c1']);
    const capture = readCapture(path.join(out, 'captures', 'round-1-client-c0.msgpack'));
    for (const a of results.attacks) {
      expect(a.error).to.equal(undefined);
      expect([a.attack, a.finalObjective, a.iterations, a.evaluations]).to.deep.equal([
        'flat-guess',
        0.5,
        1,
        capture.payload.params.length,
      ]);
      expect(a.recoveredLabels).to.deep.equal([3]);
    }

    const again = path.join(dir, 'offline');
    const plugin = path.join(dir, 'plugins', 'flat-guess.js');
    const offline = await fedleak([
      'attack',
      '--capture',
      path.join(out, 'captures', 'round-1-client-c1.msgpack'),
      '--plugin',
      plugin,
      '--set',
      'attack.settings.brightness=0.25',
      '-o',
      again,
      '-q',
    ]);
    expect(offline.code, offline.stderr).to.equal(0);
    const record = JSON.parse(fs.readFileSync(path.join(again, 'attack.json'), 'utf8')) as OfflineRecord & {
      attack: { name: string; settings: { brightness: number; label: number } };
    };
    expect(record.attack.name).to.equal('flat-guess');
    expect(record.attack.settings).to.deep.equal({ brightness: 0.25, label: 3 });
    expect([record.finalObjective, record.iterations, record.labels]).to.deep.equal([0.25, 1, [3]]);
  });

  it('names the JSON path of a bad plug-in setting, from a scenario and from fedleak attack', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(scenario({ brightness: 'bright' })));
    const run = await fedleak(['run', file, '-o', path.join(dir, 'bad-run'), '-q']);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/attack\.settings\.brightness: expected number/);
    expect(fs.existsSync(path.join(dir, 'bad-run', 'results.json'))).to.equal(false);

    // The first test's capture, re-attacked with the plug-in and a setting its schema refuses.
    const capture = path.join(dir, 'run', 'captures', 'round-1-client-c0.msgpack');
    const plugin = path.join(dir, 'plugins', 'flat-guess.js');
    const offline = await fedleak([
      'attack',
      '--capture',
      capture,
      '--plugin',
      plugin,
      '--set',
      'attack.settings.label=1.5',
      '-o',
      path.join(dir, 'bad-offline'),
      '-q',
    ]);
    expect(offline.code).to.equal(1);
    expect(offline.stderr).to.match(/attack\.settings\.label: expected int/);
  });
});
