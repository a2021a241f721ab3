/**
 * Durable runs with real processes: `node bin/fedleak.js run` killed with SIGKILL right after its
 * round-2 checkpoint, then `fedleak run --resume DIR`, ends with the same final parameters (byte for
 * byte) as an uninterrupted run of the same seed; SIGTERM leaves results.json "interrupted" and
 * exits 143; with no client connected the rounds end "aborted" after the reconnect deadline.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario } from '../server/scenario/load';
import { runRounds, startCoordinator, tokenList } from '../server/coordinator';
import { spawnClientProcesses, type ClientProcesses } from '../server/run/spawn';
import { CHECKPOINT_FILE, FINAL_PARAMS_FILE, readCheckpoint } from '../server/run/durable';
import { initBackend } from '../shared/tensor/backend';
import type { RunResults } from '../server/report/results';

const FEDLEAK = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
const ROUNDS = 4;
const SMALL = [
  'federation.clients=3',
  'federation.clientsPerRound=3',
  'federation.clientsPerProcess=3',
  `federation.rounds=${ROUNDS}`,
  'federation.localEpochs=0',
  'federation.localSteps=5',
  'federation.evalLimit=200',
  'data.limit=1500',
];

function fedleakRun(args: string[]): ChildProcess {
  return spawn(process.execPath, [FEDLEAK, 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' },
  });
}

function runArgs(out: string, extra: string[] = []): string[] {
  return ['fedavg-mnist', '--seed', '7', '-o', out, ...[...SMALL, ...extra].flatMap((s) => ['--set', s])];
}

/** Plain FedAvg; and DP-FedAvg with 2 of 3 clients sampled per round (seeded selection, seeded noise, the accountant). */
const VARIANTS = [
  { label: 'fedavg', extra: [] },
  {
    label: 'dp-fedavg, 2 of 3 clients sampled',
    extra: ['federation.clientsPerRound=2', 'defenses.dp={"clippingNorm":1,"noiseMultiplier":0.5}'],
  },
];

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Resolves when the run's progress output reports round `k` (printed after its checkpoint is written). */
function roundReported(child: ChildProcess, k: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stderr?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (new RegExp(`^round ${k}/${ROUNDS}:`, 'm').test(seen)) resolve();
    });
  });
}

const readResults = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResults;

describe('durable runs (real fedleak processes)', function () {
  this.timeout(240000);
  let tmp = '';
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-durable-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const variant of VARIANTS)
    it(`${variant.label}: kill -9 after round 2, then --resume: the same final parameters as the uninterrupted run`, async () => {
      const whole = path.join(tmp, `whole-${variant.extra.length}`);
      const first = await exited(fedleakRun([...runArgs(whole, variant.extra), '-q']));
      expect(first.code, first.stderr).to.equal(0);
      expect(readResults(whole).status).to.equal('finished');

      const killed = path.join(tmp, `killed-${variant.extra.length}`);
      const child = fedleakRun(runArgs(killed, variant.extra));
      const done = exited(child);
      await roundReported(child, 2);
      child.kill('SIGKILL');
      expect((await done).signal).to.equal('SIGKILL');
      const checkpoint = readCheckpoint(killed);
      expect(checkpoint.round).to.be.within(2, ROUNDS - 1);
      expect(fs.existsSync(path.join(killed, FINAL_PARAMS_FILE))).to.equal(false);
      const partial = readResults(killed);
      expect(partial.status).to.equal('running');
      expect(partial.rounds.map((r) => r.round)).to.deep.equal(Array.from({ length: checkpoint.round }, (_, i) => i + 1));

      const resumed = await exited(fedleakRun(['--resume', killed, '-q']));
      expect(resumed.code, resumed.stderr).to.equal(0);
      const results = readResults(killed);
      expect(results.status).to.equal('finished');
      expect(results.rounds.map((r) => r.round)).to.deep.equal([1, 2, 3, 4]);
      const reference = readResults(whole);
      expect(results.rounds.map((r) => [r.participants, r.testAccuracy])).to.deep.equal(
        reference.rounds.map((r) => [r.participants, r.testAccuracy]),
      );
      expect(results.privacy).to.deep.equal(reference.privacy);
      if (variant.extra.length) expect(results.privacy?.steps).to.equal(ROUNDS);
      const a = fs.readFileSync(path.join(whole, FINAL_PARAMS_FILE));
      const b = fs.readFileSync(path.join(killed, FINAL_PARAMS_FILE));
      expect(a.length).to.be.greaterThan(1000);
      expect(a.equals(b)).to.equal(true);
      // A run that had finished cannot be resumed again.
      expect(fs.existsSync(path.join(killed, CHECKPOINT_FILE))).to.equal(true);
      const again = await exited(fedleakRun(['--resume', killed, '-q']));
      expect(again.code).to.not.equal(0);
      expect(again.stderr).to.match(/already ran all 4 rounds/);
    });

  it('--resume names what is wrong: no checkpoint in the folder, or a scenario given as well', async () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const none = await exited(fedleakRun(['--resume', empty]));
    expect(none.code).to.not.equal(0);
    expect(none.stderr).to.include(`--resume: ${path.join(empty, CHECKPOINT_FILE)}: no checkpoint`);
    const both = await exited(fedleakRun(['quickstart', '--resume', empty]));
    expect(both.code).to.not.equal(0);
    expect(both.stderr).to.match(/--resume DIR takes the scenario, seed, overrides and output folder from DIR\/checkpoint.json/);
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} writes the rounds so far with status "interrupted" and exits ${code}`, async () => {
      const out = path.join(tmp, signal);
      const child = fedleakRun(runArgs(out));
      const done = exited(child);
      await roundReported(child, 1);
      child.kill(signal);
      expect((await done).code).to.equal(code);
      const results = readResults(out);
      expect(results.status).to.equal('interrupted');
      expect(results.stopReason).to.match(new RegExp(`^${signal} after round [1-3]$`));
      expect(results.rounds.length).to.be.within(1, ROUNDS - 1);
    });
  }

  it('every client process killed after round 1: the server waits reconnectTimeoutMs, then ends "aborted" with round 1 kept (exit 1)', async () => {
    const out = path.join(tmp, 'orphaned');
    const child = fedleakRun([...runArgs(out), '--set', 'federation.reconnectTimeoutMs=500']);
    const done = exited(child);
    await roundReported(child, 1);
    const pid = child.pid as number;
    const clientPids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    expect(clientPids.length).to.be.greaterThan(0);
    for (const p of clientPids) process.kill(p, 'SIGKILL');
    const { code, stderr } = await done;
    expect(code, stderr).to.equal(1);
    expect(stderr).to.match(/fedleak run: aborted: round \d: no client connected within federation.reconnectTimeoutMs \(500 ms\)/);
    const results = readResults(out);
    expect(results.status).to.equal('aborted');
    expect(results.rounds.length).to.be.within(1, ROUNDS - 1);
    expect(fs.existsSync(path.join(out, FINAL_PARAMS_FILE))).to.equal(true);
  });

  it('with no client connected, the rounds wait for one to connect and go on', async () => {
    await initBackend({ quiet: true });
    const { scenario } = loadScenario('fedavg-mnist', [...SMALL, 'federation.rounds=1', 'federation.reconnectTimeoutMs=120000']);
    const c = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log: () => undefined });
    let clients: ClientProcesses | null = null;
    try {
      const log = (line: string) => {
        // The loop says it is waiting: only now start the clients.
        if (line.includes('waiting up to 120000 ms') && !clients)
          clients = spawnClientProcesses(`ws://127.0.0.1:${c.port}`, tokenList(c.tokens), 3, {
            ...process.env,
            FEDLEAK_QUIET_BACKEND: '1',
          });
      };
      const result = await runRounds({
        scenario,
        hub: c.hub,
        model: c.model,
        paramCount: c.paramCount,
        test: c.test,
        initialParams: c.initialParams,
        observe: () => undefined,
        log,
      });
      expect(clients).to.not.equal(null);
      expect(result.status).to.equal('finished');
      expect(result.rounds).to.have.length(1);
      expect(result.rounds[0].participants.length).to.be.within(1, 3);
    } finally {
      await c.hub.close('test over', 1000);
      await (clients as ClientProcesses | null)?.stop(2000);
    }
  });

  it('with no client connected, the rounds wait federation.reconnectTimeoutMs and end "aborted" with what ran', async () => {
    await initBackend({ quiet: true });
    const { scenario } = loadScenario('fedavg-mnist', [...SMALL, 'federation.reconnectTimeoutMs=300']);
    const logs: string[] = [];
    const c = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log: (l) => logs.push(l) });
    try {
      const result = await runRounds({
        scenario,
        hub: c.hub,
        model: c.model,
        paramCount: c.paramCount,
        test: c.test,
        initialParams: c.initialParams,
        observe: () => undefined,
        log: (l) => logs.push(l),
      });
      expect(result.status).to.equal('aborted');
      expect(result.rounds).to.deep.equal([]);
      expect(result.abortReason).to.match(/round 1: no client connected within federation.reconnectTimeoutMs \(300 ms\)/);
      expect(Buffer.from(result.finalParams.buffer).equals(Buffer.from(c.initialParams.buffer))).to.equal(true);
      expect(logs.join('\n')).to.match(/waiting up to 300 ms for one to reconnect/);
    } finally {
      await c.hub.close('test over', 1000);
    }
  });
});
