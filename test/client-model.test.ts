/**
 * The model travels as a definition: a real client session (client/session.ts) against a real
 * websocket server on loopback that plays the coordinator. The client trains the model the server
 * defined (not the one the scenario names), and refuses a malformed or unfitting definition with
 * `error` 'bad-model' while staying connected.
 */
import { expect } from 'chai';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';
import { initBackend } from '../shared/tensor/backend';
import { validateScenario } from '../server/scenario/load';
import { definitionFor, paramCount, type ModelDefinition } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { publicScenario } from '../server/coordinator/setup';
import { runSession, type SessionEnd } from '../client/session';

const SCENARIO = validateScenario(
  {
    name: 'client-model',
    seed: 3,
    data: { dataset: 'synthetic', shape: [4, 4, 1], classes: 3, size: 40 },
    model: { name: 'lenet-zhu' },
    federation: { clients: 2, clientsPerRound: 2, batchSize: 2 },
  },
  'test',
);
/** A model other than the scenario's lenet-zhu, so a client that used the scenario would be caught. */
const MLP: ModelDefinition = definitionFor(modelSchema.parse({ name: 'mlp', hidden: [5] }), [4, 4, 1], 3);

/** One client connection to a scripted server: the test reads what the client sends, in order. */
class ScriptedServer {
  private readonly wss: WebSocketServer;
  private peer: WebSocket | null = null;
  private readonly inbox: WireMessage[] = [];
  private waiting: ((m: WireMessage) => void) | null = null;
  closed = false;

  constructor() {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.wss.on('connection', (ws) => {
      this.peer = ws;
      ws.on('message', (data: Buffer) => this.deliver(decodeFrame(data, 'server')));
      ws.on('close', () => (this.closed = true));
    });
  }

  async url(): Promise<string> {
    if (!this.wss.address()) await new Promise((r) => this.wss.once('listening', r));
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  private deliver(m: WireMessage): void {
    const w = this.waiting;
    this.waiting = null;
    if (w) w(m);
    else this.inbox.push(m);
  }

  next(): Promise<WireMessage> {
    const m = this.inbox.shift();
    return m ? Promise.resolve(m) : new Promise((r) => (this.waiting = r));
  }

  send(msg: WireMessage): void {
    this.peer?.send(encodeMessage(msg));
  }

  close(): Promise<void> {
    return new Promise((r) => this.wss.close(() => r()));
  }
}

function welcome(model: Record<string, unknown> | undefined, count: number): WireMessage {
  return {
    type: 'welcome',
    clientId: 'c1',
    clientIndex: 1,
    scenario: publicScenario(SCENARIO),
    ...(model ? { model } : {}),
    paramCount: count,
    maxFrameBytes: 1 << 20,
  };
}

function roundStart(count: number): WireMessage {
  return {
    type: 'round.start',
    round: 1,
    algorithm: 'fedsgd',
    learningRate: 0.1,
    batchSize: 2,
    localSteps: 1,
    localEpochs: 0,
    timeoutMs: 1000,
    params: new Float32Array(count).fill(0.01),
  };
}

/** Starts a client session; resolves once its hello arrived (wrapped: an async function would adopt the session's promise). */
async function session(server: ScriptedServer, logs: string[]): Promise<{ end: Promise<SessionEnd> }> {
  const end = runSession(await server.url(), 'token-1', (l) => logs.push(l), false);
  expect((await server.next()).type).to.equal('hello');
  return { end };
}

describe('client: the model travels as a definition (welcome.model)', function () {
  this.timeout(30000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('trains the model the server defined, not the one the scenario names', async () => {
    const server = new ScriptedServer();
    const logs: string[] = [];
    const { end } = await session(server, logs);
    const count = paramCount(MLP.params);
    server.send(welcome(JSON.parse(JSON.stringify(MLP)) as Record<string, unknown>, count));
    expect((await server.next()).type).to.equal('ready');
    server.send(roundStart(count));
    const update = await server.next();
    if (update.type !== 'update') throw new Error(`expected an update, got ${JSON.stringify(update)}`);
    expect(update.update.length).to.equal(count);
    server.send({ type: 'shutdown', reason: 'done' });
    expect((await end).clean).to.equal(true);
    await server.close();
  });

  const BAD: Array<{ what: string; model: () => Record<string, unknown>; count?: number; error: RegExp }> = [
    {
      what: 'an unknown op',
      model: () => ({ ...MLP, layers: MLP.layers.map((l) => (l.name === 'dense1' ? { ...l, op: 'lstm' } : l)) }),
      error: /layer "dense1" \(#1, op lstm\): unknown op "lstm"/,
    },
    {
      what: 'a dangling input',
      model: () => ({ ...MLP, layers: MLP.layers.map((l) => (l.name === 'dense2' ? { ...l, inputs: ['nowhere'] } : l)) }),
      error: /layer "dense2".*input "nowhere"/,
    },
    {
      what: 'a parameter shape mismatch',
      model: () => ({ ...MLP, params: MLP.params.map((p) => (p.name === 'dense1/bias' ? { ...p, shape: [6] } : p)) }),
      error: /layer "dense1".*bias "dense1\/bias" has shape \[6\]/,
    },
    { what: 'not a definition at all', model: () => ({ format: 'keras', layers: 'many' }), error: /welcome.model: format/ },
    {
      what: 'an input shape other than the data',
      model: () => ({ ...MLP, inputShape: [2, 8, 1] }),
      error: /inputShape \[2,8,1\] does not match this client's data \[4,4,1\]/,
    },
    {
      what: 'a paramCount the model does not have',
      model: () => ({ ...MLP }),
      count: 7,
      error: /welcome.paramCount is 7 but the model "mlp" has 103 parameters/,
    },
  ];
  for (const b of BAD) {
    it(`refuses ${b.what} with error bad-model, logs it, and stays connected`, async () => {
      const server = new ScriptedServer();
      const logs: string[] = [];
      const { end } = await session(server, logs);
      server.send(welcome(JSON.parse(JSON.stringify(b.model())) as Record<string, unknown>, b.count ?? paramCount(MLP.params)));
      const refusal = await server.next();
      if (refusal.type !== 'error') throw new Error(`expected an error, got ${refusal.type}`);
      expect(refusal.code).to.equal('bad-model');
      expect(refusal.ref).to.equal('welcome');
      expect(refusal.message).to.match(b.error);
      expect(logs.join('\n')).to.match(/c1: could not act on welcome: bad-model: /);
      // Still connected: a round gets a clear "cannot train" answer instead of an update.
      server.send(roundStart(paramCount(MLP.params)));
      const answer = await server.next();
      if (answer.type !== 'error') throw new Error(`expected an error, got ${answer.type}`);
      expect([answer.code, answer.ref]).to.deep.equal(['bad-model', 'round.start']);
      expect(answer.message).to.match(/^cannot train: the model in welcome was refused: /);
      expect(server.closed).to.equal(false);
      server.send({ type: 'shutdown', reason: 'done' });
      const ended = await end;
      expect(ended.clean).to.equal(false);
      expect(ended.reason).to.match(/^refused the server's model: /);
      await server.close();
    });
  }
});
