/**
 * Client guards in a real client session (client/session.ts) against a scripted websocket server on
 * loopback: pin-model refuses a definition other than the pinned one (an imprint block in front, or
 * a malformed definition) before building it, says ready, answers each round.start with
 * 'guard-refused' and stays connected; the pinned definition trains normally.
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
import { checkGuardConfig } from '../client/guards';
import { parseGuardList } from '../shared/guards';
import { modelHash } from '../shared/model-hash';

const SCENARIO = validateScenario(
  {
    name: 'guards',
    seed: 3,
    data: { dataset: 'synthetic', shape: [4, 4, 1], classes: 3, size: 40 },
    model: { name: 'mlp', hidden: [5] },
    federation: { clients: 2, clientsPerRound: 2, batchSize: 2 },
  },
  'test',
);
const HONEST: ModelDefinition = definitionFor(modelSchema.parse({ name: 'mlp', hidden: [5] }), [4, 4, 1], 3);
const PIN = modelHash(JSON.parse(JSON.stringify(HONEST)));

class ScriptedServer {
  private readonly wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  private readonly inbox: WireMessage[] = [];
  private waiting: ((m: WireMessage) => void) | null = null;
  private peer: WebSocket | null = null;
  closed = false;

  constructor() {
    this.wss.on('connection', (ws) => {
      this.peer = ws;
      ws.on('message', (data: Buffer) => {
        const m = decodeFrame(data, 'server');
        const w = this.waiting;
        this.waiting = null;
        if (w) w(m);
        else this.inbox.push(m);
      });
      ws.on('close', () => (this.closed = true));
    });
  }
  async url(): Promise<string> {
    if (!this.wss.address()) await new Promise((r) => this.wss.once('listening', r));
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
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

function welcome(model: unknown, count: number): WireMessage {
  return {
    type: 'welcome',
    clientId: 'c1',
    clientIndex: 1,
    scenario: publicScenario(SCENARIO),
    model: JSON.parse(JSON.stringify(model)) as Record<string, unknown>,
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

async function pinnedSession(server: ScriptedServer, logs: string[]): Promise<{ end: Promise<SessionEnd> }> {
  const end = runSession(await server.url(), 'token-1', (l) => logs.push(l), false, { guards: { guards: ['pin-model'], modelHash: PIN } });
  expect((await server.next()).type).to.equal('hello');
  return { end };
}

describe('client guards in a client session (pin-model)', function () {
  this.timeout(30000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('trains the pinned definition', async () => {
    const server = new ScriptedServer();
    const { end } = await pinnedSession(server, []);
    const count = paramCount(HONEST.params);
    server.send(welcome(HONEST, count));
    expect((await server.next()).type).to.equal('ready');
    server.send(roundStart(count));
    expect((await server.next()).type).to.equal('update');
    server.send({ type: 'shutdown', reason: 'done' });
    expect((await end).clean).to.equal(true);
    await server.close();
  });

  const CHANGED: Array<{ what: string; model: () => unknown }> = [
    {
      what: 'a wider hidden layer (architecture changed)',
      model: () => definitionFor(modelSchema.parse({ name: 'mlp', hidden: [6] }), [4, 4, 1], 3),
    },
    { what: 'a malformed definition', model: () => ({ format: 'keras', layers: 'many' }) },
  ];
  for (const c of CHANGED) {
    it(`refuses ${c.what}: ready, then guard-refused on every round.start, connection kept`, async () => {
      const server = new ScriptedServer();
      const logs: string[] = [];
      const { end } = await pinnedSession(server, logs);
      server.send(welcome(c.model(), 99));
      expect((await server.next()).type).to.equal('ready');
      expect(logs.join('\n')).to.match(
        /c1: pin-model: refused the server's model: the model definition sent has hash sha256:[0-9a-f]{64}, not the pinned/,
      );
      for (let i = 0; i < 2; i++) {
        server.send(roundStart(99));
        const answer = await server.next();
        if (answer.type !== 'error') throw new Error(`expected an error, got ${answer.type}`);
        expect([answer.code, answer.ref]).to.deep.equal(['guard-refused', 'round.start']);
        expect(answer.message).to.match(/^pin-model: the model definition sent has hash/);
      }
      expect(server.closed).to.equal(false);
      server.send({ type: 'shutdown', reason: 'done' });
      const ended = await end;
      expect(ended.clean).to.equal(true);
      expect(ended.reason).to.match(/^refused the server's model: pin-model: /);
      await server.close();
    });
  }

  it('refuses a guard configuration it cannot honour, before connecting', () => {
    expect(() => checkGuardConfig({ guards: ['pin-model'] })).to.throw(/--guards pin-model needs --model-hash/);
    expect(() => checkGuardConfig({ guards: ['pin-model'], modelHash: 'abc' })).to.throw(/--model-hash: expected "sha256:"/);
    expect(() => parseGuardList('pin-model,firewall')).to.throw(/unknown guard "firewall"; known: pin-model, inspect-parameters/);
    expect(parseGuardList('inspect-parameters, pin-model')).to.deep.equal(['inspect-parameters', 'pin-model']);
  });
});
