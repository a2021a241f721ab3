/**
 * Secure-aggregation checks against a deviating client, over real websockets through the
 * coordinator's hub: low-order X25519 keys are refused, an impossible aggregate (2^31 added to the
 * masked words, or a lie about the mask key) aborts the round, and an honest client's refusal is
 * logged with its sender and named in the abort reason.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { ClientHub } from '../server/coordinator/hub';
import { generateTokens, tokenList } from '../server/coordinator/tokens';
import type { StageContext } from '../server/coordinator/stage';
import { secureAggregationStage } from '../server/secagg/stage';
import { ClientSecAgg } from '../client/secagg/session';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';
import '../shared/wire/secagg';
import { Rng } from '../shared/random';
import { agree, generateKeyPair, prgWords } from '../shared/secagg/crypto';
import { bytesToWords, wordsToBytes } from '../shared/secagg/quantize';
import { defensesSchema } from '../shared/scenario/public';
import { federationSchema } from '../server/scenario/schema';
import { testPlan } from '../bench/loopback-cohort';
import type { SecureAggregationRecord } from '../server/report/results';

const P = 64;
const N = 5;
/** u = 1: a point of order 1 on Curve25519, 32 bytes like any key. */
const LOW_ORDER = (() => {
  const k = new Uint8Array(32);
  k[0] = 1;
  return k;
})();

type Tamper = (from: string, msg: WireMessage) => WireMessage;

interface Outcome {
  record: SecureAggregationRecord;
  serverLog: string[];
}

async function runRound(tamper: Tamper, threshold: number): Promise<Outcome> {
  const tokens = generateTokens(N);
  const serverLog: string[] = [];
  const hub = new ClientHub({ tokens, publicScenario: {}, paramCount: P, maxFrameBytes: 1 << 22, log: (l) => serverLog.push(l) });
  const port = await hub.listen(0);
  const config = defensesSchema.parse({ secureAggregation: { threshold, stageTimeoutMs: 1500 } }).secureAggregation!;
  const sockets: WebSocket[] = [];
  const closed: Promise<void>[] = [];
  try {
    for (const token of tokenList(tokens)) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      sockets.push(ws);
      closed.push(new Promise((r) => ws.once('close', () => r())));
      let secagg: ClientSecAgg | null = null;
      let id = '';
      const send = (m: WireMessage): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(tamper(id, m)));
      };
      ws.on('open', () => send({ type: 'hello', token, agent: 'secagg-checks' }));
      ws.on('message', (data: Buffer) => {
        const msg = decodeFrame(data, 'client');
        if (msg.type === 'welcome') {
          id = msg.clientId;
          secagg = new ClientSecAgg({ clientId: id, config, send, disconnect: () => ws.close(), log: () => undefined });
        } else if (msg.type === 'round.start') {
          secagg!.begin(
            msg.round,
            Float32Array.from({ length: P }, (_, i) => Math.sin(i + id.length)),
            1,
            new Rng(9).fork(id),
          );
        } else if (msg.type === 'shutdown') ws.close();
        else if (msg.type !== 'error') secagg?.handle(msg);
      });
    }
    await hub.waitForClients(N);
    const ctx: StageContext = {
      hub,
      round: 1,
      selected: ['c0', 'c1', 'c2', 'c3', 'c4'],
      plan: testPlan(1, ['c0', 'c1', 'c2', 'c3', 'c4'], new Float32Array(P)),
      paramCount: P,
      federation: federationSchema.parse({ clients: N, clientsPerRound: N, batchSize: 1, roundTimeoutMs: 1000 }),
      log: (l) => serverLog.push(l),
    };
    const result = await secureAggregationStage({ config, seed: 1 })(ctx);
    return { record: result.secureAggregation!, serverLog };
  } finally {
    await hub.close('test over', 2000);
    await Promise.all(closed);
  }
}

describe('secure aggregation checks against a deviating client (loopback websockets)', function () {
  this.timeout(60000);

  it('refuses a low-order X25519 mask key; the round completes without that client', async () => {
    const { record, serverLog } = await runRound(
      (from, m) => (from === 'c1' && m.type === 'secagg.advertise-keys' ? { ...m, maskKey: LOW_ORDER } : m),
      0.6,
    );
    expect(record.aborted, serverLog.join('\n')).to.equal(undefined);
    expect(record.survivors).to.deep.equal(['c0', 'c2', 'c3', 'c4']);
    expect(
      serverLog.some((l) => /rejected c1: bad-message: c1: mask key in round 1 is a low-order X25519 point/.test(l)),
      serverLog.join('\n'),
    ).to.equal(true);
  });

  it('aborts the round when a client adds 2^31 to its masked words', async () => {
    const { record, serverLog } = await runRound((from, m) => {
      if (from !== 'c3' || m.type !== 'secagg.masked-input') return m;
      const words = bytesToWords(m.masked);
      for (let i = 0; i < words.length; i++) words[i] = words[i]! + 2 ** 31;
      return { ...m, masked: wordsToBytes(words) };
    }, 0.6);
    expect(record.aborted, serverLog.join('\n')).to.match(/^aggregate out of range: a client deviated from the protocol/);
    expect(record.survivors).to.deep.equal([]);
    expect(serverLog.some((l) => /secure aggregation aborted: aggregate out of range/.test(l))).to.equal(true);
  });

  it('aborts the round when a client masks with a key it did not advertise (its masks do not cancel)', async () => {
    // What a lie about the mask key does to y_u: an extra pseudo-random mask that nobody can remove.
    const { record, serverLog } = await runRound((from, m) => {
      if (from !== 'c2' || m.type !== 'secagg.masked-input') return m;
      const words = bytesToWords(m.masked);
      const lie = prgWords(agree(generateKeyPair().secretKey, generateKeyPair().publicKey, 'pairwise-mask'), words.length);
      for (let i = 0; i < words.length; i++) words[i] = words[i]! + lie[i]!;
      return { ...m, masked: wordsToBytes(words) };
    }, 0.6);
    expect(record.aborted, serverLog.join('\n')).to.match(/^aggregate out of range: a client deviated from the protocol/);
  });

  it('logs an honest refusal with its sender, and the abort reason names the client who caused it', async () => {
    // c1 corrupts its encrypted share for c2: c2 cannot authenticate it and refuses; 5 of 5 are needed.
    const { record, serverLog } = await runRound((from, m) => {
      if (from !== 'c1' || m.type !== 'secagg.share-keys') return m;
      return {
        ...m,
        shares: m.shares.map((s) => (s.to === 'c2' ? { to: s.to, ciphertext: s.ciphertext.map((b, i) => (i === 20 ? b ^ 1 : b)) } : s)),
      };
    }, 5);
    expect(
      serverLog.some((l) => /server: c2 refused round 1 of secure aggregation: .*share from c1/.test(l)),
      serverLog.join('\n'),
    ).to.equal(true);
    expect(record.aborted).to.match(/lost: c2 \(refused: .*share from c1/);
  });
});
