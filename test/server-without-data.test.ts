/**
 * A server with no data of its own: `data.dataset "none"` with `data.location "clients"`. Real
 * processes: `fedleak server` started in an empty folder, two `fedleak client --data` processes on
 * image folders written here, one sharing its ground truth (--share-truth) and one not. The run
 * completes, accuracy is reported as not measured, the sharing client's reconstruction is scored and
 * the other's is kept unscored, and every report says so.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeImageFolder } from '../shared/data/image-folder-write';
import { makeSynthetic } from '../shared/data/synthetic';
import { ScenarioError } from '../shared/scenario/errors';
import { validateScenario } from '../server/scenario/load';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-no-server-data-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
const ENV = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };

const SCENARIO = {
  name: 'no-server-data',
  seed: 11,
  data: { dataset: 'none', location: 'clients', shape: [8, 8, 1], classes: 3 },
  model: { name: 'mlp', hidden: [16], activation: 'sigmoid' },
  federation: { clients: 2, clientsPerRound: 2, rounds: 2, algorithm: 'fedsgd', batchSize: 1, learningRate: 0.5 },
  attack: { name: 'inverting-gradients', iterations: 40, rounds: [1], maxTargets: 0 },
};

function exitOf(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => p.once('exit', (code) => resolve(code)));
}

/** Starts `fedleak server` in `cwd`; resolves with its port once it listens. */
async function startServer(cwd: string, scenarioFile: string, tokensFile: string, out: string) {
  const server = spawn(
    process.execPath,
    [BIN, 'server', '--scenario', scenarioFile, '--port', '0', '--host', '127.0.0.1', '--tokens', tokensFile, '--out', out, '--quiet'],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: ENV },
  );
  const exited = exitOf(server);
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    server.stderr?.on('data', () => {
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return { exited, port, stderr: () => stderr };
}

function startClient(port: number, token: string, folder: string, shareTruth: boolean) {
  const args = [
    BIN,
    'client',
    '--server',
    `ws://127.0.0.1:${port}`,
    '--token',
    token,
    '--data',
    folder,
    ...(shareTruth ? ['--share-truth'] : []),
  ];
  const client = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: ENV });
  let stderr = '';
  client.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return { exited: exitOf(client), stderr: () => stderr };
}

describe('a server with no data of its own (data.dataset "none", client-held data)', function () {
  this.timeout(120000);

  it('validation: "none" needs location "clients"; planted models and release need server data', () => {
    const base = { name: 'x', attack: { name: 'none' } };
    expect(() => validateScenario({ ...base, data: { dataset: 'none' } }, 'x.json')).to.throw(
      ScenarioError,
      'data.dataset: "none" (no data on the server) needs data.location "clients"',
    );
    expect(() =>
      validateScenario(
        {
          ...base,
          data: SCENARIO.data,
          model: { name: 'mlp' },
          server: { behaviour: 'trap-weights' },
        },
        'x.json',
      ),
    ).to.throw(ScenarioError, 'server.behaviour: "trap-weights" fits its planted layer on the server\'s public data');
  });

  it('trains two client processes on their own folders, reports accuracy as not measured and the unshared reconstruction as unscored', async () => {
    const empty = path.join(tmp, 'server-cwd');
    fs.mkdirSync(empty);
    const folders = [0, 1].map((i) =>
      writeImageFolder(makeSynthetic({ shape: [8, 8, 1], classes: 3, size: 9 + 3 * i, seed: 40 + i }), path.join(tmp, `ward-${i}`)),
    );
    const scenarioFile = path.join(tmp, 'scenario.json');
    fs.writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
    const tokensFile = path.join(tmp, 'tokens.txt');
    const out = path.join(tmp, 'out');
    const server = await startServer(empty, scenarioFile, tokensFile, out);
    const tokens = fs
      .readFileSync(tokensFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[1]);
    const clients = [startClient(server.port, tokens[0], folders[0], true), startClient(server.port, tokens[1], folders[1], false)];
    const [serverCode, ...clientCodes] = await Promise.all([server.exited, ...clients.map((c) => c.exited)]);
    expect(serverCode, server.stderr()).to.equal(0);
    clientCodes.forEach((code, i) => expect(code, clients[i].stderr()).to.equal(0));
    expect(clients[1].stderr()).to.include(`training examples (own data ${folders[1]})`);

    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      status: string;
      rounds: { testAccuracy: number | null; testLoss: number | null }[];
      attacks: { target: string; psnr: number | null; unscored?: string; error?: string; image?: string; recoveredLabels?: number[] }[];
      verdict: { sentence: string };
    };
    expect(results.status).to.equal('finished');
    expect(results.rounds).to.have.length(2);
    expect(results.rounds.map((r) => [r.testAccuracy, r.testLoss])).to.deep.equal([
      [null, null],
      [null, null],
    ]);
    const byTarget = new Map(results.attacks.map((a) => [a.target, a]));
    const shared = byTarget.get('c0');
    const kept = byTarget.get('c1');
    expect(shared?.error).to.equal(undefined);
    expect(shared?.unscored).to.equal(undefined);
    expect(shared?.psnr).to.be.a('number');
    expect(kept?.error).to.equal(undefined);
    expect(kept?.psnr).to.equal(null);
    expect(kept?.unscored, JSON.stringify(results.attacks)).to.include(
      'c1 refuses eval.truth-request: the evaluation channel is off on this client (it is on only for clients spawned by fedleak run, or started with --share-truth)',
    );
    expect(kept?.recoveredLabels).to.have.length(1);
    expect(fs.existsSync(path.join(out, kept?.image ?? 'missing'))).to.equal(true);
    expect(results.verdict.sentence).to.include('1 of 2 reconstructions are unscored');

    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).to.include('Test accuracy and loss were not measured. The server holds no data (data.dataset "none")');
    expect(summary).to.include('1 of 2 reconstructions could not be scored');
    expect(summary).to.include('1 of 2 attacks scored');
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).to.include('UNSCORED');
    expect(html).to.include('Test accuracy and loss were not measured.');
    // The server wrote nothing but its run folder: no data files anywhere in its working directory.
    expect(fs.readdirSync(empty)).to.deep.equal([]);
  });
});
