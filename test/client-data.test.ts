import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkDataLocation, loadClientData, type OwnData } from '../client/local-data';
import { runSession } from '../client/session';
import { computeUpdate } from '../client/train';
import { distinctInOrder, roundBatches } from '../client/schedule';
import { DataError } from '../shared/data/errors';
import { writeImageFolder } from '../shared/data/image-folder-write';
import { makeSynthetic } from '../shared/data/synthetic';
import { subset } from '../shared/data/types';
import { buildModel, paramCount } from '../shared/models';
import { modelSchema } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { initBackend } from '../shared/tensor/backend';
import { decodeFrame, encodeMessage, type RoundStart, type WireMessage } from '../shared/wire';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-own-data-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SHAPE: [number, number, number] = [6, 6, 3];
const publicPart = {
  name: 'own-data',
  seed: 5,
  data: { dataset: 'synthetic', shape: SHAPE, classes: 3, size: 30, location: 'clients' },
  model: { name: 'mlp', hidden: [8] },
  federation: { clients: 1, clientsPerRound: 1, rounds: 1, algorithm: 'fedavg', localEpochs: 1, batchSize: 2, learningRate: 0.1 },
};

/** The client's own images: 9 examples of another seed than the scenario's, as a PNG class folder. */
function ownFolder(name: string): string {
  const own = makeSynthetic({ shape: SHAPE, classes: 3, size: 9, seed: 77 });
  return writeImageFolder(own, path.join(tmp, name));
}

describe('client-held data: loadClientData', () => {
  it('reads an image folder or a JSON config for any file loader, and names what is wrong', () => {
    const folder = ownFolder('folder');
    const d = loadClientData(folder);
    expect(d.shape).to.deep.equal(SHAPE);
    expect(d.labels.length).to.equal(9);
    fs.writeFileSync(path.join(tmp, 't.csv'), 'x,y\n1,a\n2,b\n');
    const config = path.join(tmp, 'csv.json');
    fs.writeFileSync(config, JSON.stringify({ dataset: 'csv', path: path.join(tmp, 't.csv'), label: 'y' }));
    expect(loadClientData(config).classNames).to.deep.equal(['a', 'b']);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ dataset: 'csv', path: 't.csv' }));
    expect(() => loadClientData(bad)).to.throw(DataError, `${bad}: data.label: the label column is required`);
    fs.writeFileSync(bad, JSON.stringify({ dataset: 'photos' }));
    expect(() => loadClientData(bad)).to.throw(
      DataError,
      `${bad}: unknown dataset "photos"; expected one of mnist, idx, cifar10, synthetic, cifar100, image-folder, csv`,
    );
    fs.writeFileSync(bad, JSON.stringify({ dataset: 'csv', path: 't.csv', label: 'y', partition: 'iid' }));
    expect(() => loadClientData(bad)).to.throw(DataError, `${bad}: config: Unrecognized key`);
    expect(() => loadClientData(path.join(tmp, 'none'))).to.throw(DataError, 'no such file or folder');
    expect(() => loadClientData(path.join(tmp, 't.csv'))).to.throw(DataError, 'expected an image folder or a .json data config');
  });
});

describe('client-held data: data.location', () => {
  it('"clients" needs --data, "server" refuses it', () => {
    const own: OwnData = { dataset: makeSynthetic({ shape: SHAPE, classes: 3, size: 3, seed: 1 }), source: 'mine/', shareTruth: false };
    expect(() => checkDataLocation('clients', own)).not.to.throw();
    expect(() => checkDataLocation('server', undefined)).not.to.throw();
    expect(() => checkDataLocation('clients', undefined)).to.throw(DataError, 'start this client with --data PATH');
    expect(() => checkDataLocation('server', own)).to.throw(DataError, '--data mine/: the scenario says data.location "server"');
  });
});

describe('client-held data: a client session', () => {
  before(async () => initBackend());
  const model = () => buildModel(modelSchema.parse(publicPart.model), SHAPE, 3);

  /** A scripted coordinator: welcome, one fedavg round, then a truth request; returns what the client sent. */
  async function oneRound(own: OwnData, params: Float32Array): Promise<{ received: WireMessage[]; roundStart: RoundStart }> {
    const roundStart: RoundStart = {
      type: 'round.start',
      round: 1,
      algorithm: 'fedavg',
      learningRate: 0.1,
      batchSize: 2,
      localSteps: 1,
      localEpochs: 1,
      timeoutMs: 60000,
      params,
    };
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const received: WireMessage[] = [];
    wss.on('connection', (ws: WebSocket) => {
      const send = (msg: WireMessage) => ws.send(encodeMessage(msg));
      ws.on('message', (data: Buffer) => {
        const msg = decodeFrame(data, 'server');
        received.push(msg);
        if (msg.type === 'hello') {
          send({
            type: 'welcome',
            clientId: 'c0',
            clientIndex: 0,
            scenario: publicPart,
            paramCount: paramCount(model().specs),
            maxFrameBytes: 1 << 20,
          });
        } else if (msg.type === 'ready') send(roundStart);
        else if (msg.type === 'update') send({ type: 'eval.truth-request', requestId: 7, round: 1 });
        else if (msg.type === 'error' || msg.type === 'eval.truth') send({ type: 'shutdown', reason: 'done' });
      });
    });
    const port = (wss.address() as { port: number }).port;
    const end = await runSession(`ws://127.0.0.1:${port}`, 'token', () => undefined, false, { own });
    wss.close();
    expect(end.clean, end.reason).to.equal(true);
    return { received, roundStart };
  }

  it('trains on its own files, tells the server only the example count, and keeps the truth private', async () => {
    const own: OwnData = { dataset: loadClientData(ownFolder('session')), source: 'session', shareTruth: false };
    const params = model().initParams(new Rng(1));
    const { received, roundStart } = await oneRound(own, params);
    const batches = roundBatches(9, roundStart, publicPart.seed, 0, 1);
    const update = received.find((m) => m.type === 'update');
    if (update?.type !== 'update') throw new Error('no update received');
    expect(update.numExamples).to.equal(9);
    expect(distinctInOrder(batches).length).to.equal(9);
    expect(Array.from(update.update)).to.deep.equal(Array.from(computeUpdate(model(), params, own.dataset, batches, 'fedavg', 0.1)));
    const refusal = received.find((m) => m.type === 'error');
    expect(refusal).to.include({ code: 'unavailable', ref: 'eval.truth-request', requestId: 7 });
    expect(received.some((m) => m.type === 'eval.truth')).to.equal(false);
  });

  it('answers the evaluation channel with its own examples when started with --share-truth', async () => {
    const own: OwnData = { dataset: loadClientData(ownFolder('shared')), source: 'shared', shareTruth: true };
    const { received, roundStart } = await oneRound(own, model().initParams(new Rng(2)));
    const used = distinctInOrder(roundBatches(9, roundStart, publicPart.seed, 0, 1));
    const truth = received.find((m) => m.type === 'eval.truth');
    if (truth?.type !== 'eval.truth') throw new Error('no eval.truth received');
    expect(truth.count).to.equal(9);
    expect(Array.from(truth.labels)).to.deep.equal(used.map((i) => own.dataset.labels[i]));
    expect(Array.from(truth.images)).to.deep.equal(Array.from(subset(own.dataset, used).images));
  });
});

describe('client-held data: fedleak server + fedleak client --data', () => {
  it('runs a round with a client process training on its image folder', async function () {
    this.timeout(60000);
    const folder = ownFolder('cli');
    const scenarioFile = path.join(tmp, 's.json');
    fs.writeFileSync(scenarioFile, JSON.stringify({ ...publicPart, attack: { name: 'none' } }));
    const bin = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
    const env = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };
    const tokensFile = path.join(tmp, 'tokens.txt');
    const out = path.join(tmp, 'out');
    const server = spawn(
      process.execPath,
      [bin, 'server', '--scenario', scenarioFile, '--port', '0', '--host', '127.0.0.1', '--tokens', tokensFile, '--out', out, '--quiet'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    let serverErr = '';
    const port = await new Promise<number>((resolve, reject) => {
      server.stderr?.on('data', (chunk: Buffer) => {
        serverErr += chunk.toString();
        const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(serverErr);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}): ${serverErr}`)));
    });
    const token = fs.readFileSync(tokensFile, 'utf8').trim().split(' ')[1];
    const client = spawn(process.execPath, [bin, 'client', '--server', `ws://127.0.0.1:${port}`, '--token', token, '--data', folder], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let clientErr = '';
    client.stderr?.on('data', (c: Buffer) => (clientErr += c.toString()));
    const [serverCode, clientCode] = await Promise.all(
      [server, client].map((p) => new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)))),
    );
    expect(serverCode, serverErr).to.equal(0);
    expect(clientCode, clientErr).to.equal(0);
    expect(clientErr).to.include(`c0: connected, 9 training examples (own data ${folder})`);
    expect(fs.existsSync(path.join(out, 'results.json'))).to.equal(true);
  });
});
