/**
 * The federated runtime with real client processes and real websockets on loopback. Misbehaving
 * peers are raw websocket connections speaking the wire protocol by hand; a "stalling" client is a
 * separate OS process that authenticates and then never answers.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { validateScenario } from '../server/scenario/load';
import type { Scenario } from '../server/scenario/schema';
import { clientShard } from '../shared/data';
import { buildModel, paramCount } from '../shared/models';
import { subset } from '../shared/data/types';
import { initBackend } from '../shared/tensor/backend';
import { decodeFrame, encodeMessage, type MessageMap, type MessageType, type WireMessage } from '../shared/wire';
import {
  applyAggregate,
  publicScenario,
  runRounds,
  selectClients,
  weightedMean,
  startCoordinator,
  tokenList,
  WireEvaluationChannel,
  type Coordinator,
  type Rejection,
} from '../server/coordinator';
import type { ObservedUpdate } from '../server/observer/hook';

type Seen = ObservedUpdate & { globalParams: Float32Array };
import { CLIENT_MAIN, spawnClientProcesses, type ClientProcesses } from '../server/run/spawn';
import { computeUpdate } from '../client/train';
import { distinctInOrder, roundBatches } from '../client/schedule';
import { runScenario } from '../server/run';
import type { RunResults } from '../server/report/results';

function scenario(federation: Record<string, unknown>): Scenario {
  return validateScenario(
    {
      name: 'runtime-test',
      seed: 11,
      data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 150, testFraction: 0.2 },
      model: { name: 'mlp', hidden: [8] },
      federation: { clients: 3, clientsPerRound: 3, rounds: 1, algorithm: 'fedsgd', batchSize: 2, learningRate: 0.1, ...federation },
      attack: { name: 'none' },
    },
    'runtime test',
  );
}

const CHILD_ENV = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };

/** A hand-driven websocket peer: queues every decoded server message. */
class RawPeer {
  private readonly inbox: WireMessage[] = [];
  private waiter: (() => void) | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.inbox.push(decodeFrame(data, 'client'));
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static connect(url: string): Promise<RawPeer> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawPeer(ws)));
      ws.once('error', reject);
    });
  }

  send(msg: WireMessage): void {
    this.ws.send(encodeMessage(msg));
  }

  sendRaw(data: Uint8Array | string, binary = true): void {
    this.ws.send(data, { binary });
  }

  /** The next message from the server (in order). */
  async next(): Promise<WireMessage> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.inbox.shift() as WireMessage;
  }

  async expect<T extends MessageType>(type: T): Promise<MessageMap[T]> {
    const msg = await this.next();
    expect(msg.type, JSON.stringify(msg)).to.equal(type);
    return msg as MessageMap[T];
  }

  async expectError(code: string): Promise<void> {
    const msg = await this.expect('error');
    expect(msg.code, msg.message).to.equal(code);
  }

  /** Connects and authenticates as the owner of `token`. */
  static async join(url: string, token: string): Promise<RawPeer> {
    const p = await RawPeer.connect(url);
    p.send({ type: 'hello', token, agent: 'test' });
    await p.expect('welcome');
    return p;
  }
}

interface Federation {
  s: Scenario;
  c: Coordinator;
  url: string;
  tokens: string[];
  logs: string[];
  rejections: Rejection[];
  /** Every observed update with the θ of its round's payload. */
  observed: Seen[];
  processes: ClientProcesses[];
  children: ChildProcess[];
  peers: RawPeer[];
}

async function startFederation(s: Scenario): Promise<Federation> {
  const logs: string[] = [];
  const c = await startCoordinator(s, { port: 0, host: '127.0.0.1', log: (line) => logs.push(line) });
  const rejections: Rejection[] = [];
  c.hub.on('rejected', (r) => rejections.push(r));
  return {
    s,
    c,
    url: `ws://127.0.0.1:${c.port}`,
    tokens: tokenList(c.tokens),
    logs,
    rejections,
    observed: [],
    processes: [],
    children: [],
    peers: [],
  };
}

function rounds(f: Federation) {
  return runRounds({
    scenario: f.s,
    hub: f.c.hub,
    model: f.c.model,
    paramCount: f.c.paramCount,
    test: f.c.test,
    initialParams: f.c.initialParams,
    observe: (u, payload) => f.observed.push({ ...u, globalParams: payload.params }),
    log: (line) => f.logs.push(line),
  });
}

async function stopFederation(f: Federation): Promise<void> {
  for (const p of f.peers) p.ws.terminate();
  await f.c.hub.close('test over', 2000);
  await Promise.all(f.processes.map((p) => p.stop(2000)));
  for (const ch of f.children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
}

/** A client OS process that authenticates, prints ROUND on round.start and never answers. */
function spawnStallingClient(url: string, token: string): ChildProcess {
  const script = `
    const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
    const wire = require(${JSON.stringify(path.resolve(__dirname, '..', 'shared', 'wire'))});
    const ws = new WebSocket(process.argv[1]);
    ws.on('open', () => ws.send(wire.encodeMessage({ type: 'hello', token: process.argv[2], agent: 'staller' })));
    ws.on('message', (d) => { if (wire.decodeFrame(d, 'client').type === 'round.start') process.stdout.write('ROUND\\n'); });`;
  return spawn(process.execPath, ['-e', script, url, token], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function validUpdate(f: Federation, round: number): WireMessage {
  return { type: 'update', round, kind: 'gradient', numExamples: 1, update: new Float32Array(f.c.paramCount) };
}

describe('round arithmetic', () => {
  it('weights the mean by example count and applies it per algorithm', () => {
    const mean = weightedMean([
      { clientId: 'a', update: new Float32Array([1, 10]), numExamples: 1 },
      { clientId: 'b', update: new Float32Array([5, -2]), numExamples: 3 },
    ]);
    expect(Array.from(mean)).to.deep.equal([4, 1]);
    expect(Array.from(applyAggregate(new Float32Array([1, 1]), mean, 'fedsgd', 0.5))).to.deep.equal([-1, 0.5]);
    expect(Array.from(applyAggregate(new Float32Array([1, 1]), mean, 'fedavg', 0.5))).to.deep.equal([5, 2]);
  });

  it('schedules batches as docs/protocol.md says: fedsgd one batch, fedavg steps across epochs, epochs cover the shard', () => {
    const plan = { algorithm: 'fedavg' as const, batchSize: 4, localSteps: 4, localEpochs: 0 };
    const steps = roundBatches(10, plan, 7, 2, 3);
    expect(steps.map((b) => b.length)).to.deep.equal([4, 4, 2, 4]);
    expect(new Set(steps.slice(0, 3).flat()).size).to.equal(10);
    expect(roundBatches(10, plan, 7, 2, 3)).to.deep.equal(steps);
    expect(roundBatches(10, plan, 7, 2, 4)).to.not.deep.equal(steps);
    expect(roundBatches(10, { ...plan, algorithm: 'fedsgd' }, 7, 2, 3)).to.deep.equal([steps[0]]);
    const epochs = roundBatches(10, { ...plan, localEpochs: 2 }, 7, 2, 3);
    expect(epochs.flat().sort((a, b) => a - b)).to.deep.equal([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    expect(distinctInOrder(epochs)).to.deep.equal(epochs.flat().filter((x, i, all) => all.indexOf(x) === i));
  });

  it('selects clientsPerRound of the connected clients, seeded, in client order', () => {
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    const a = selectClients(ids, 3, 9, 1);
    expect(a).to.have.length(3);
    expect(a).to.deep.equal([...a].sort((x, y) => ids.indexOf(x) - ids.indexOf(y)));
    expect(selectClients(ids, 3, 9, 1)).to.deep.equal(a);
    expect([2, 3, 4, 5].map((r) => selectClients(ids, 3, 9, r).join())).to.not.deep.equal([a.join(), a.join(), a.join(), a.join()]);
    expect(selectClients(['c0', 'c2'], 3, 9, 1)).to.deep.equal(['c0', 'c2']);
  });
});

describe('federated runtime (real processes, loopback websockets)', function () {
  this.timeout(60000);
  let fed: Federation | null = null;

  before(async () => {
    await initBackend({ quiet: true });
  });

  afterEach(async () => {
    if (fed) await stopFederation(fed);
    fed = null;
  });

  it('runs fedavg rounds with client processes; the observer gets each update exactly as the client computed it; eval.truth returns the examples used', async () => {
    const f = (fed = await startFederation(
      scenario({ clients: 2, clientsPerRound: 2, rounds: 2, algorithm: 'fedavg', localSteps: 3, batchSize: 4 }),
    ));
    f.processes.push(spawnClientProcesses(f.url, f.tokens, 2, CHILD_ENV));
    await f.c.hub.waitForReady(2);
    // Two virtual clients in one process: one connection each, the same process in hello.agent.
    expect(new Set(f.c.hub.agents().values()).size).to.equal(1);
    const { rounds: records } = await rounds(f);
    expect(records.map((r) => r.round)).to.deep.equal([1, 2]);
    for (const r of records) {
      expect(r.participants).to.deep.equal(['c0', 'c1']);
      expect(r.dropped).to.deep.equal([]);
      expect(r.testAccuracy).to.be.within(0, 1);
      expect(Number.isFinite(r.testLoss)).to.equal(true);
      // The frame is the update's raw float32 bytes plus a header of a few dozen bytes.
      for (const bytes of Object.values(r.updateBytes ?? {})) expect(bytes - 4 * f.c.paramCount).to.be.within(1, 96);
    }
    expect(f.observed.map((u) => `${u.round}/${u.sender}/${u.kind}`).sort()).to.deep.equal([
      '1/c0/weight-delta',
      '1/c1/weight-delta',
      '2/c0/weight-delta',
      '2/c1/weight-delta',
    ]);

    // θ₂ = θ₁ + Σ nᵢΔᵢ / Σ nᵢ over the round-1 updates, exactly as the server applied it.
    const r1 = f.observed.filter((o) => o.round === 1);
    const r2Global = (f.observed.find((o) => o.round === 2) as Seen).globalParams;
    const expectedGlobal = applyAggregate(
      r1[0].globalParams,
      weightedMean(r1.map((o) => ({ clientId: o.sender, update: o.update, numExamples: o.numExamples }))),
      'fedavg',
      0.1,
    );
    expect(Buffer.from(r2Global.buffer).equals(Buffer.from(expectedGlobal.buffer))).to.equal(true);

    // Recompute c1's round-2 update here: same shard, same batches, same bytes.
    const u = f.observed.find((o) => o.round === 2 && o.sender === 'c1') as Seen;
    const fc = f.s.federation;
    const shard = clientShard(f.s.data, fc.clients, 1, f.s.seed);
    const batches = roundBatches(shard.labels.length, fc, f.s.seed, 1, 2);
    const expected = computeUpdate(f.c.model, u.globalParams, shard, batches, 'fedavg', fc.learningRate);
    expect(Buffer.from(u.update.buffer).equals(Buffer.from(expected.buffer))).to.equal(true);
    expect(u.numExamples).to.equal(12);

    const truthChannel = new WireEvaluationChannel(f.c.hub);
    const truth = await truthChannel.fetchTruth(2, 'c1');
    const used = subset(shard, batches.flat());
    expect(truth.count).to.equal(12);
    expect(truth.labels).to.deep.equal(Array.from(used.labels));
    expect(Array.from(truth.images)).to.deep.equal(Array.from(used.images));
    let refused = '';
    await truthChannel.fetchTruth(5, 'c0').catch((e: Error) => (refused = e.message));
    expect(refused).to.match(/c0 could not give the ground truth of round 5: unavailable/);
    truthChannel.close();
  });

  it('a client process killed mid-round is recorded as dropped and the round completes with the others', async () => {
    const f = (fed = await startFederation(scenario({ clients: 3, clientsPerRound: 3, roundTimeoutMs: 120000 })));
    f.processes.push(spawnClientProcesses(f.url, f.tokens.slice(0, 2), 1, CHILD_ENV));
    const staller = spawnStallingClient(f.url, f.tokens[2]);
    f.children.push(staller);
    staller.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ROUND')) staller.kill('SIGKILL');
    });
    await f.c.hub.waitForClients(3);
    const { rounds: records } = await rounds(f);
    expect(records[0].participants).to.deep.equal(['c0', 'c1', 'c2']);
    expect(records[0].dropped).to.deep.equal(['c2']);
    expect(Object.keys(records[0].updateBytes ?? {})).to.deep.equal(['c0', 'c1']);
    expect(staller.signalCode).to.equal('SIGKILL');
    expect(f.logs.join('\n')).to.match(/round 1: c2 dropped \(disconnected\)/);
  });

  it('a client that never answers is dropped at the round deadline, one that declines round.start at once; the round completes', async () => {
    const f = (fed = await startFederation(scenario({ clients: 4, clientsPerRound: 4, roundTimeoutMs: 1500 })));
    f.processes.push(spawnClientProcesses(f.url, f.tokens.slice(0, 2), 2, CHILD_ENV));
    const silent = await RawPeer.join(f.url, f.tokens[2]);
    const declining = await RawPeer.join(f.url, f.tokens[3]);
    f.peers.push(silent, declining);
    await f.c.hub.waitForClients(4);
    const done = rounds(f);
    expect((await declining.expect('round.start')).round).to.equal(1);
    declining.send({ type: 'error', code: 'non-finite', message: 'local training produced NaN', ref: 'round.start' });
    const { rounds: records } = await done;
    expect(records[0].dropped).to.deep.equal(['c3', 'c2']);
    expect(Object.keys(records[0].updateBytes ?? {})).to.deep.equal(['c0', 'c1']);
    expect(f.logs.join('\n')).to.match(/c3 dropped \(it could not take part: non-finite: local training produced NaN\)/);
    expect(f.logs.join('\n')).to.match(/c2 dropped \(no update within 1500 ms\)/);
    expect((await silent.expect('round.start')).round).to.equal(1);
  });

  it('refuses a wrong token, a missing token and a first message that is not hello; others still join', async () => {
    const f = (fed = await startFederation(scenario({ clients: 2, clientsPerRound: 2 })));
    const wrong = await RawPeer.connect(f.url);
    wrong.send({ type: 'hello', token: 'f'.repeat(32), agent: 'intruder' });
    await wrong.expectError('unauthorized');
    expect((await wrong.closed).code).to.equal(4001);

    const missing = await RawPeer.connect(f.url);
    missing.sendRaw(encodeMessage({ type: 'hello', agent: 'no token' } as unknown as WireMessage));
    await missing.expectError('bad-message');
    expect((await missing.closed).code).to.equal(4001);

    const eager = await RawPeer.connect(f.url);
    eager.send(validUpdate(f, 1));
    await eager.expectError('unauthorized');
    expect((await eager.closed).code).to.equal(4001);

    const stolen = await RawPeer.join(f.url, f.tokens[0]);
    const twice = await RawPeer.connect(f.url);
    twice.send({ type: 'hello', token: f.tokens[0], agent: 'copy' });
    await twice.expectError('unauthorized');
    f.peers.push(stolen, await RawPeer.join(f.url, f.tokens[1]));
    expect(f.c.hub.connected()).to.deep.equal(['c0', 'c1']);
    expect(f.rejections.map((r) => r.code)).to.deep.equal(['unauthorized', 'bad-message', 'unauthorized', 'unauthorized']);
    expect(f.logs.filter((l) => l.includes('rejected unauthenticated peer'))).to.have.length(4);
  });

  it('answers each kind of malformed frame with its error, keeps serving, and completes the round for the well-behaved clients', async () => {
    const f = (fed = await startFederation(scenario({ clients: 5, clientsPerRound: 5 })));
    f.processes.push(spawnClientProcesses(f.url, f.tokens.slice(0, 2), 1, CHILD_ENV));
    const bad = await RawPeer.join(f.url, f.tokens[2]);
    const late = await RawPeer.join(f.url, f.tokens[3]);
    const huge = await RawPeer.join(f.url, f.tokens[4]);
    f.peers.push(bad, late, huge);
    await f.c.hub.waitForClients(5);
    const done = rounds(f);
    await Promise.all([bad, late, huge].map((p) => p.expect('round.start')));

    bad.sendRaw(Buffer.from('definitely not msgpack'));
    await bad.expectError('bad-frame');
    bad.sendRaw('{"type":"update"}', false);
    await bad.expectError('bad-frame');
    bad.sendRaw(encodeMessage({ type: 'gossip' } as unknown as WireMessage));
    await bad.expectError('unknown-type');
    const v2 = { ...(validUpdate(f, 1) as MessageMap['update']), v: 2 };
    const { pack } = await import('msgpackr');
    bad.sendRaw(pack({ ...v2, update: new Uint8Array(4 * f.c.paramCount) }));
    await bad.expectError('bad-version');
    bad.send({ type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: new Float32Array(f.c.paramCount - 1) });
    await bad.expectError('wrong-length');
    const withNaN = new Float32Array(f.c.paramCount);
    withNaN[5] = NaN;
    bad.send({ type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: withNaN });
    await bad.expectError('non-finite');
    const withInf = new Float32Array(f.c.paramCount);
    withInf[0] = -Infinity;
    bad.send({ type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: withInf });
    await bad.expectError('non-finite');
    bad.send(validUpdate(f, 2));
    await bad.expectError('wrong-round');
    bad.send({ type: 'hello', token: f.tokens[2], agent: 'again' });
    await bad.expectError('bad-message');
    bad.send({ ...(validUpdate(f, 1) as MessageMap['update']), numExamples: 1000 });
    await bad.expectError('bad-message');
    bad.send({ ...(validUpdate(f, 1) as MessageMap['update']), kind: 'weight-delta' });
    await bad.expectError('bad-message');
    bad.send(validUpdate(f, 1));
    expect((await bad.expect('update.accepted')).round).to.equal(1);
    bad.send(validUpdate(f, 1));
    await bad.expectError('duplicate');

    huge.sendRaw(new Uint8Array(f.c.maxFrameBytes + 1));
    expect((await huge.closed).code).to.equal(1009);

    late.send(validUpdate(f, 1));
    await late.expect('update.accepted');
    const { rounds: records } = await done;
    expect(records[0].dropped).to.deep.equal(['c4']);
    expect(Object.keys(records[0].updateBytes ?? {})).to.deep.equal(['c0', 'c1', 'c2', 'c3']);
    const codes = f.rejections.map((r) => `${r.clientId}:${r.code}`);
    expect(codes).to.include.members([
      'c2:bad-frame',
      'c2:unknown-type',
      'c2:bad-version',
      'c2:wrong-length',
      'c2:non-finite',
      'c2:wrong-round',
      'c2:bad-message',
      'c2:duplicate',
      'c4:frame-too-large',
    ]);
    expect(f.logs.some((l) => /rejected c4: frame-too-large/.test(l))).to.equal(true);
    // After the round: an update for a closed round is refused too.
    bad.send(validUpdate(f, 1));
    await bad.expectError('wrong-round');
  });

  it('fedleak run (runScenario) spawns the client processes, runs the rounds and writes results.json', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-rt-'));
    const s = scenario({ clients: 3, clientsPerRound: 2, rounds: 2, clientsPerProcess: 2 });
    const logs: string[] = [];
    const results = await runScenario(
      { scenario: s, file: 'runtime-test.json', raw: {} },
      { outDir: out, progress: false, log: (l) => logs.push(l) },
    );
    const written = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(written.format).to.equal('fedleak-results/1');
    expect(written.rounds.map((r) => r.participants.length)).to.deep.equal([2, 2]);
    expect(written.rounds.every((r) => r.dropped.length === 0)).to.equal(true);
    expect(written.rounds.map((r) => r.testAccuracy)).to.deep.equal(results.rounds.map((r) => r.testAccuracy));
    expect(written.backend.name).to.be.a('string');
    expect(written.attacks).to.deep.equal([]);
  });

  it('fedleak server and fedleak client run as separate commands: tokens file, connect, rounds, clean exit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-cli-'));
    const scenarioFile = path.join(dir, 's.json');
    fs.writeFileSync(scenarioFile, JSON.stringify({ ...scenario({ clients: 2, clientsPerRound: 2, rounds: 1 }), sweep: undefined }));
    const bin = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
    const tokensFile = path.join(dir, 'tokens.txt');
    const server = spawn(
      process.execPath,
      [
        bin,
        'server',
        '--scenario',
        scenarioFile,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--tokens',
        tokensFile,
        '--out',
        path.join(dir, 'out'),
        '--quiet',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: CHILD_ENV,
      },
    );
    fed = null;
    let serverErr = '';
    const port = await new Promise<number>((resolve, reject) => {
      server.stderr?.on('data', (chunk: Buffer) => {
        serverErr += chunk.toString();
        const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(serverErr);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}): ${serverErr}`)));
    });
    const lines = fs.readFileSync(tokensFile, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).to.deep.equal(['c0', 'c1']);
    expect(fs.statSync(tokensFile).mode & 0o777).to.equal(0o600);
    const tokens = lines.map((l) => l.split(' ')[1]);
    const client = spawn(
      process.execPath,
      [bin, 'client', '--server', `ws://127.0.0.1:${port}`, '--token', tokens.join(','), '--count', '2'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: CHILD_ENV },
    );
    let clientErr = '';
    client.stderr?.on('data', (c: Buffer) => (clientErr += c.toString()));
    const [serverCode, clientCode] = await Promise.all(
      [server, client].map((p) => new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)))),
    );
    expect(serverCode, serverErr).to.equal(0);
    expect(clientCode, clientErr).to.equal(0);
    expect(clientErr)
      .to.match(/c0: run finished/)
      .and.to.match(/c1: run finished/);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'results.json'), 'utf8')) as RunResults;
    expect(results.rounds[0].participants).to.deep.equal(['c0', 'c1']);
  });

  it('a client process rejects malformed server messages with clear errors, and gives up without a usable welcome', async () => {
    const good = scenario({ clients: 1, clientsPerRound: 1 });
    const count = paramCount(buildModel(good.model, [6, 6, 1], 3).specs);
    const welcome = {
      type: 'welcome',
      clientId: 'c0',
      clientIndex: 0,
      scenario: publicScenario(good),
      paramCount: count,
      maxFrameBytes: 1 << 20,
    } as const;
    // A fake coordinator that scripts what it sends after each client message.
    async function talk(
      script: (ws: WebSocket, msg: WireMessage) => void,
    ): Promise<{ fromClient: string[]; closeCode: number; exitCode: number | null; stderr: string }> {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
      const fromClient: string[] = [];
      const closed = new Promise<number>((resolve) => {
        wss.on('connection', (ws) => {
          ws.on('message', (data: Buffer) => {
            const msg = decodeFrame(data, 'server');
            fromClient.push(msg.type === 'error' ? `error:${msg.code}` : msg.type);
            script(ws, msg);
          });
          ws.on('close', (code) => resolve(code));
        });
      });
      const port = (wss.address() as { port: number }).port;
      const child = spawn(process.execPath, [CLIENT_MAIN, '--server', `ws://127.0.0.1:${port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...CHILD_ENV, FEDLEAK_CLIENT_TOKENS: 'tok' },
      });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const closeCode = await closed;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      return { fromClient, closeCode, exitCode, stderr };
    }

    // After a good welcome: garbage, a round.start with the wrong vector length and a second welcome are
    // each answered with an error; the client stays and leaves cleanly on shutdown.
    const a = await talk((ws, msg) => {
      if (msg.type === 'hello') {
        ws.send(encodeMessage(welcome));
        ws.send(Buffer.from('garbage, not msgpack'));
      } else if (msg.type === 'error' && msg.code === 'bad-frame') {
        ws.send(
          encodeMessage({
            type: 'round.start',
            round: 1,
            algorithm: 'fedsgd',
            learningRate: 0.1,
            batchSize: 2,
            localSteps: 1,
            localEpochs: 0,
            timeoutMs: 1000,
            params: new Float32Array(count + 1),
          }),
        );
      } else if (msg.type === 'error' && msg.code === 'wrong-length') {
        ws.send(encodeMessage(welcome));
      } else if (msg.type === 'error') {
        ws.send(encodeMessage({ type: 'shutdown', reason: 'test over' }));
      }
    });
    expect(a.fromClient).to.deep.equal(['hello', 'ready', 'error:bad-frame', 'error:wrong-length', 'error:bad-message']);
    expect(a.closeCode).to.equal(1000);
    expect(a.exitCode).to.equal(0);
    expect(a.stderr).to.match(/c0: rejected a server message: bad-frame: frame of \d+ bytes is not valid msgpack/);
    expect(a.stderr).to.match(/c0: could not act on round\.start: wrong-length: round\.start\.params: \d+ values, the model has \d+/);
    expect(a.stderr).to.match(/a second welcome on the same connection/);

    // A welcome that cannot be used: error back, close 1008, exit 1.
    const b = await talk((ws, msg) => {
      if (msg.type === 'hello') ws.send(encodeMessage({ ...welcome, paramCount: -3 } as unknown as WireMessage));
    });
    expect(b.fromClient).to.deep.equal(['hello', 'error:bad-message']);
    expect(b.closeCode).to.equal(1008);
    expect(b.exitCode).to.equal(1);
    expect(b.stderr).to.match(/rejected a server message: bad-message: welcome\.paramCount: -3 is outside/);
  });
});
