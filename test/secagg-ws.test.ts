/**
 * Secure aggregation over real websockets on loopback: the coordinator's hub, the wire codec
 * (msgpack), the secure-aggregation collect stage, and clients running the client-side dispatcher
 * with real drop-outs (one disconnects, one falls silent) and an unselected client trying to join.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { ClientHub } from '../server/coordinator/hub';
import { generateTokens, tokenList } from '../server/coordinator/tokens';
import type { StageContext } from '../server/coordinator/stage';
import type { ObservedUpdate } from '../server/observer/hook';
import { secureAggregationStage } from '../server/secagg/stage';
import { ClientSecAgg } from '../client/secagg/session';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';
import '../shared/wire/secagg';
import { Rng } from '../shared/random';
import { federationSchema, defensesSchema, type SecureAggregationConfig } from '../server/scenario/schema';
import { quantizationStep } from '../shared/secagg/quantize';
import { testPlan } from '../bench/loopback-cohort';

const P = 300;

interface FakeClient {
  closed: Promise<void>;
  ws: WebSocket;
  /** Resolves with the first `error` message the server sends this client. */
  firstError: Promise<string>;
}

type Hook = (id: string, msg: WireMessage) => Promise<void>;

/** A minimal wire client: hello, then round.start → keep the input, secagg.* → the client dispatcher. */
function connect(
  url: string,
  token: string,
  config: SecureAggregationConfig,
  inputOf: (id: string) => Float32Array,
  log: string[],
  before: Hook,
): Promise<FakeClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const send = (m: WireMessage): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(m));
    };
    let secagg: ClientSecAgg | null = null;
    let id = '';
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    let gotError: (m: string) => void = () => undefined;
    const firstError = new Promise<string>((r) => (gotError = r));
    ws.on('open', () => send({ type: 'hello', token, agent: 'secagg-ws-test' }));
    ws.on('error', reject);
    ws.on('message', async (data: Buffer) => {
      const msg = decodeFrame(data, 'client');
      await before(id, msg);
      if (msg.type === 'welcome') {
        id = msg.clientId;
        secagg = new ClientSecAgg({ clientId: id, config, send, disconnect: () => ws.close(1000, 'drop'), log: (l) => log.push(l) });
        resolve({ closed, ws, firstError });
      } else if (msg.type === 'round.start') {
        secagg!.begin(msg.round, inputOf(id), 1, new Rng(7).fork(id));
      } else if (msg.type === 'shutdown') {
        ws.close();
      } else if (msg.type === 'error') {
        gotError(msg.message);
      } else if (!secagg?.handle(msg)) {
        throw new Error(`unexpected ${msg.type}`);
      }
    });
  });
}

describe('secure aggregation over loopback websockets', function () {
  this.timeout(60000);

  it('runs a round through the hub: masked views, aggregate, drop-outs, refusal of a mid-protocol joiner', async () => {
    const n = 7;
    const tokens = generateTokens(n);
    const serverLog: string[] = [];
    const hub = new ClientHub({ tokens, publicScenario: {}, paramCount: P, maxFrameBytes: 1 << 22, log: (l) => serverLog.push(l) });
    const port = await hub.listen(0);
    const config = defensesSchema.parse({
      secureAggregation: {
        threshold: 0.6,
        stageTimeoutMs: 1500,
        dropouts: [
          { client: 'c2', stage: 'masked-input', mode: 'disconnect' },
          { client: 'c4', stage: 'unmask', mode: 'silent' },
        ],
      },
    }).secureAggregation!;
    const rng = new Rng(3);
    const inputs = new Map<string, Float32Array>();
    const inputOf = (id: string): Float32Array => {
      if (!inputs.has(id))
        inputs.set(
          id,
          Float32Array.from({ length: P }, () => rng.normal(0, 0.1)),
        );
      return inputs.get(id)!;
    };
    const clientLog: string[] = [];
    const clients: FakeClient[] = [];
    try {
      // When c0 is asked for its shares, the unselected c6 tries to join; c0 answers once c6 was refused.
      const before: Hook = async (id, msg) => {
        if (id !== 'c0' || msg.type !== 'secagg.share-keys-request') return;
        clients[6]!.ws.send(
          encodeMessage({
            type: 'secagg.advertise-keys',
            round: 1,
            clientId: 'c6',
            encryptionKey: new Uint8Array(32),
            maskKey: new Uint8Array(32).fill(1),
          }),
        );
        expect(await clients[6]!.firstError).to.equal('c6 was not selected for round 1 and cannot join it mid-protocol (ShareKeys)');
      };
      for (const t of tokenList(tokens)) clients.push(await connect(`ws://127.0.0.1:${port}`, t, config, inputOf, clientLog, before));
      await hub.waitForClients(n);
      const selected = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']; // c6 is connected but not selected
      const observed: ObservedUpdate[] = [];
      const ctx: StageContext = {
        hub,
        round: 1,
        selected,
        plan: testPlan(1, selected, new Float32Array(P)),
        paramCount: P,
        federation: federationSchema.parse({ clients: n, clientsPerRound: 6, batchSize: 1, roundTimeoutMs: 5000 }),
        log: (l) => serverLog.push(l),
      };
      const stage = secureAggregationStage({ config, seed: 1 });
      const result = await stage(ctx);
      observed.push(...(result.views ?? []));

      const survivors = ['c0', 'c1', 'c3', 'c4', 'c5'];
      expect(result.secureAggregation, serverLog.join('\n')).to.deep.include({
        threshold: 4,
        survivors,
        dropped: ['c2'],
        clippedValues: 0,
      });
      expect(result.dropped).to.deep.equal(['c2']);
      expect(result.aggregate?.clients).to.deep.equal(survivors);
      const step = quantizationStep(config);
      expect(result.secureAggregation!.maxAbsError)
        .to.be.above(0)
        .and.at.most(survivors.length * step);
      for (let i = 0; i < P; i++) {
        const plainMean = survivors.reduce((s, id) => s + inputs.get(id)![i]!, 0) / survivors.length;
        expect(Math.abs(result.aggregate!.mean[i]! - plainMean)).to.be.at.most(step + 1e-6);
      }
      // The observer got every masked vector that arrived (noise on the scale of the modulus) and the mean.
      const masked = observed.filter((u) => u.view === 'masked');
      expect(masked.map((u) => u.sender).sort()).to.deep.equal(survivors);
      for (const u of masked) expect(Math.max(...u.update.map(Math.abs))).to.be.above(100);
      const agg = observed.filter((u) => u.view === 'aggregate');
      expect(agg).to.have.length(1);
      expect(agg[0]).to.deep.include({ sender: 'aggregate', numExamples: 5 });
      expect(
        serverLog.some((l) => /c6 was not selected for round 1 and cannot join it mid-protocol/.test(l)),
        serverLog.join('\n'),
      ).to.equal(true);
      expect(clientLog.some((l) => /c2: simulated drop-out at masked-input/.test(l))).to.equal(true);
    } finally {
      await hub.close('test over', 2000);
      await Promise.all(clients.map((c) => c.closed));
    }
  });
});
