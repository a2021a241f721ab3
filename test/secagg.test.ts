/**
 * Secure aggregation, in process with real cryptography: primitives, the protocol under seeded random
 * drop-outs (aggregate correctness and exact abort behaviour), uniformity of masked vectors, and the
 * error cases (wrong round, wrong/missing share, mid-protocol joiners, malformed messages, "never both").
 */
import { expect } from 'chai';
import { Rng } from '../shared/random';
import { agree, generateKeyPair, open, prgWords, publicKeyOf, seal } from '../shared/secagg/crypto';
import { SecAggClient } from '../shared/secagg/client';
import { SecAggError } from '../shared/secagg/errors';
import { buildPairingGraph, resolveThreshold } from '../shared/secagg/graph';
import type { SecAggClientMessage } from '../shared/secagg/messages';
import { bytesToWords, checkHeadroom, dequantizeSum, quantizationStep, quantize } from '../shared/secagg/quantize';
import { combineShares, shareSecret } from '../shared/secagg/shamir';
import { DROP_STAGES, runInProcess, type DropStage } from '../server/secagg/in-process';
import { SecAggServer, type SecAggServerParams } from '../server/secagg/server';
import { checkSecureAggregationScenario } from '../server/secagg/check';
import { scenarioSchema } from '../server/scenario/schema';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

function params(n: number, extra: Partial<SecAggServerParams> = {}): SecAggServerParams {
  return {
    round: 1,
    participants: ids(n),
    threshold: 0.5,
    neighbours: 0,
    graphSeed: 1,
    vectorLength: 16,
    clippingRange: 4,
    quantizationRange: 2 ** 20,
    ...extra,
  };
}

function randomInputs(participants: string[], length: number, rng: Rng, scale = 1): Map<string, Float32Array> {
  return new Map(participants.map((id) => [id, Float32Array.from({ length }, () => rng.normal(0, scale))]));
}

/** Top-byte histogram chi-square (256 bins) of 32-bit words. */
function chiSquareTopByte(words: Uint32Array): number {
  const bins = new Float64Array(256);
  for (const w of words) bins[w >>> 24]! += 1;
  const expected = words.length / 256;
  let chi = 0;
  for (const b of bins) chi += (b - expected) ** 2 / expected;
  return chi;
}

describe('secagg primitives', () => {
  it('X25519 + HKDF agreement is symmetric and purpose-separated; a rebuilt key yields its public key', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(Buffer.from(agree(a.secretKey, b.publicKey, 'pairwise-mask'))).to.deep.equal(
      Buffer.from(agree(b.secretKey, a.publicKey, 'pairwise-mask')),
    );
    expect(Buffer.from(agree(a.secretKey, b.publicKey, 'pairwise-mask'))).to.not.deep.equal(
      Buffer.from(agree(a.secretKey, b.publicKey, 'share-encryption')),
    );
    expect(Buffer.from(publicKeyOf(a.secretKey))).to.deep.equal(Buffer.from(a.publicKey));
  });

  it('AES-GCM shares only open with the same key and associated data (sender, recipient, round)', () => {
    const key = agree(generateKeyPair().secretKey, generateKeyPair().publicKey, 'share-encryption');
    const sealed = seal(key, new Uint8Array([1, 2, 3]), 'round=1 from=a to=b');
    expect([...open(key, sealed, 'round=1 from=a to=b', 'x')]).to.deep.equal([1, 2, 3]);
    expect(() => open(key, sealed, 'round=2 from=a to=b', 'share')).to.throw(SecAggError, /authentication failed/);
    const flipped = sealed.slice();
    flipped[14]! ^= 1;
    expect(() => open(key, flipped, 'round=1 from=a to=b', 'share')).to.throw(SecAggError, /authentication failed/);
  });

  it('the AES-CTR PRG is deterministic per seed and differs across seeds', () => {
    const s1 = new Uint8Array(32).fill(1);
    const s2 = new Uint8Array(32).fill(2);
    expect([...prgWords(s1, 8)]).to.deep.equal([...prgWords(s1, 8)]);
    expect([...prgWords(s1, 8)]).to.not.deep.equal([...prgWords(s2, 8)]);
    expect([...prgWords(s1, 4)]).to.deep.equal([...prgWords(s1, 8).slice(0, 4)]);
  });

  it('Shamir: any t shares rebuild the secret, t − 1 do not; t = 1 is replication', async () => {
    const secret = new Uint8Array(32).map((_, i) => i * 7);
    const shares = await shareSecret(secret, 5, 3);
    expect([...(await combineShares([shares[4]!, shares[0]!, shares[2]!], 3, 's'))]).to.deep.equal([...secret]);
    expect([...(await combineShares(shares.slice(1, 3), 2, 's'))]).to.not.deep.equal([...secret]);
    await combineShares(shares.slice(0, 2), 3, 'seed of c1').then(
      () => expect.fail('combined below threshold'),
      (e: Error) => expect(e.message).to.match(/seed of c1: 2 share\(s\) received, 3 needed/),
    );
    const one = await shareSecret(secret, 3, 1);
    expect([...(await combineShares([one[2]!], 1, 's'))]).to.deep.equal([...secret]);
  });

  it('quantisation is unbiased within one step, counts clipped values, refuses NaN and wrapping cohorts', () => {
    const p = { clippingRange: 1, quantizationRange: 2 ** 16 };
    const x = Float32Array.from([0.3, -0.7, 1.5, -2, 0, 1]);
    const q = quantize(x, p, new Rng(1));
    expect(q.clipped).to.equal(2);
    const back = dequantizeSum(q.words, 1, p);
    const clipped = [0.3, -0.7, 1, -1, 0, 1];
    back.forEach((v, i) => expect(Math.abs(v - clipped[i]!)).to.be.at.most(quantizationStep(p) + 1e-7));
    // Mean of many stochastic roundings of the same value converges on it (unbiased).
    const many = quantize(new Float32Array(20000).fill(0.1234567), { clippingRange: 1, quantizationRange: 16 }, new Rng(2));
    const mean = dequantizeSum(many.words, 1, { clippingRange: 1, quantizationRange: 16 }).reduce((a, b) => a + b, 0) / 20000;
    expect(Math.abs(mean - 0.1234567)).to.be.below(0.004);
    expect(() => quantize(Float32Array.from([0, NaN]), p, new Rng(1))).to.throw(SecAggError, /entry 1 is NaN/);
    expect(() => checkHeadroom({ clippingRange: 8, quantizationRange: 2 ** 22 }, 1023)).to.not.throw();
    expect(() => checkHeadroom({ clippingRange: 8, quantizationRange: 2 ** 22 }, 1024)).to.throw(
      SecAggError,
      /could wrap; use at most 1023 clients/,
    );
  });

  it('thresholds: fractions of the cohort or counts; SecAgg+ graphs are symmetric with the requested degree', () => {
    expect(resolveThreshold(0.67, 10)).to.equal(7);
    expect(resolveThreshold(1, 10)).to.equal(10);
    expect(resolveThreshold(4, 10)).to.equal(4);
    expect(() => resolveThreshold(11, 10)).to.throw(SecAggError, /larger than the 10 selected/);
    expect(() => resolveThreshold(2.5, 10)).to.throw(SecAggError, /whole count/);
    const g = buildPairingGraph(ids(20), 10, 4, 3);
    for (const u of ids(20)) {
      expect(g.neighbours(u).size).to.equal(4);
      expect(g.neighbours(u).has(u)).to.equal(false);
      for (const v of g.neighbours(u)) expect(g.neighbours(v).has(u)).to.equal(true);
      expect(g.shamirThreshold(u)).to.equal(3); // ⌈5 · 10/20⌉
    }
    expect(buildPairingGraph(ids(5), 3, 8, 3).complete).to.equal(true);
  });
});

interface Case {
  n: number;
  threshold: number;
  neighbours: number;
  dropAt: Map<string, DropStage>;
}

/**
 * Predicts which clients survive each stage and where the round aborts, from the drop pattern alone:
 * server thresholds, clients' own neighbourhood checks (SecAgg+), and per-client reconstruction.
 */
function predict(c: Case, p: SecAggServerParams): { abortStage: string | null; survivors: string[] } {
  const t = resolveThreshold(c.threshold, c.n);
  const g = buildPairingGraph(p.participants, t, c.neighbours, p.graphSeed);
  const alive = (id: string, stage: DropStage): boolean => {
    const d = c.dropAt.get(id);
    return !d || DROP_STAGES.indexOf(d) > DROP_STAGES.indexOf(stage);
  };
  const hood = (u: string, set: Set<string>): number => [u, ...g.neighbours(u)].filter((v) => set.has(v)).length;
  const u1 = new Set(p.participants.filter((id) => alive(id, 'advertise')));
  if (u1.size < t) return { abortStage: 'AdvertiseKeys', survivors: [] };
  const u2 = new Set([...u1].filter((id) => alive(id, 'share-keys') && hood(id, u1) >= g.shamirThreshold(id)));
  if (u2.size < t) return { abortStage: 'ShareKeys', survivors: [] };
  const u3 = new Set([...u2].filter((id) => alive(id, 'masked-input') && hood(id, u2) >= g.shamirThreshold(id)));
  if (u3.size < t) return { abortStage: 'MaskedInputCollection', survivors: [] };
  const u4 = new Set([...u3].filter((id) => alive(id, 'unmask')));
  if (u4.size < t) return { abortStage: 'Unmasking', survivors: [] };
  for (const v of u2) {
    const holders = u3.has(v) ? hood(v, u4) : [...g.neighbours(v)].filter((w) => u4.has(w)).length;
    if (holders < g.shamirThreshold(v)) return { abortStage: 'Unmasking', survivors: [] };
  }
  return { abortStage: null, survivors: p.participants.filter((id) => u3.has(id)) };
}

describe('secagg protocol under random drop-outs', function () {
  this.timeout(120000);

  it('120 seeded cases, n = 3..30: the aggregate is the survivors’ sum within n quantisation steps, and aborts happen exactly below threshold', async () => {
    const rng = new Rng(2017);
    const outcomes = { completed: 0, aborted: new Map<string, number>() };
    for (let k = 0; k < 120; k++) {
      const n = 3 + rng.int(28);
      const threshold = rng.next() < 0.5 ? 0.3 + 0.7 * rng.next() : 1 + rng.int(n);
      const neighbours = rng.next() < 0.3 && n > 6 ? 2 + rng.int(Math.min(6, n - 4)) : 0;
      const dropRate = rng.next() * 0.5;
      const dropAt = new Map<string, DropStage>();
      for (const id of ids(n)) if (rng.next() < dropRate) dropAt.set(id, DROP_STAGES[rng.int(4)]!);
      const length = 8 + rng.int(24);
      const clippingRange = rng.next() < 0.3 ? 1 : 4;
      const p = params(n, { threshold, neighbours, graphSeed: k, vectorLength: length, clippingRange, round: 1 + rng.int(5) });
      const inputs = randomInputs(p.participants, length, rng.fork(`inputs-${k}`));
      const expected = predict({ n, threshold, neighbours, dropAt }, p);
      const { result } = await runInProcess({ params: p, inputs, dropAt, seed: k });
      const label = `case ${k}: n=${n} t=${threshold} k=${neighbours} drops=${JSON.stringify([...dropAt])}`;
      if (expected.abortStage) {
        expect(result.status, `${label}: ${result.reason}`).to.equal('aborted');
        expect(result.reason, label).to.match(new RegExp(`^${expected.abortStage} of round`));
        expect(result.aggregate, label).to.equal(undefined);
        outcomes.aborted.set(expected.abortStage, (outcomes.aborted.get(expected.abortStage) ?? 0) + 1);
        continue;
      }
      expect(result.status, `${label}: ${result.reason}`).to.equal('completed');
      expect(result.survivors, label).to.deep.equal(expected.survivors);
      const m = expected.survivors.length;
      const tolerance = m * quantizationStep(p) + 1e-5;
      let clipped = 0;
      for (let i = 0; i < length; i++) {
        let plain = 0;
        for (const id of expected.survivors) {
          const x = inputs.get(id)![i]!;
          if (Math.abs(x) > clippingRange) clipped++;
          plain += Math.max(-clippingRange, Math.min(clippingRange, x));
        }
        expect(Math.abs(result.aggregate![i]! - plain), `${label} entry ${i}`).to.be.at.most(tolerance);
      }
      expect(result.clippedValues, label).to.equal(clipped);
      outcomes.completed++;
    }
    // The generator must exercise both outcomes and aborts at several stages, or the test proves little.
    expect(outcomes.completed).to.be.above(40);
    expect(outcomes.aborted.size).to.be.at.least(3);
  });

  it('a larger vector (20 clients × 20,000 entries, 4 drop-outs) unmasks to the plain sum', async () => {
    const p = params(20, { vectorLength: 20000, threshold: 0.7, clippingRange: 8, quantizationRange: 2 ** 22 });
    const inputs = randomInputs(p.participants, p.vectorLength, new Rng(5), 0.05);
    const dropAt = new Map<string, DropStage>([
      ['c1', 'advertise'],
      ['c4', 'share-keys'],
      ['c9', 'masked-input'],
      ['c15', 'unmask'],
    ]);
    const { result } = await runInProcess({ params: p, inputs, dropAt, seed: 9 });
    expect(result.status, result.reason).to.equal('completed');
    expect(result.survivors).to.have.length(17);
    expect(result.survivors).to.include('c15').and.not.include('c9');
    let maxErr = 0;
    for (let i = 0; i < p.vectorLength; i++) {
      let plain = 0;
      for (const id of result.survivors) plain += inputs.get(id)![i]!;
      maxErr = Math.max(maxErr, Math.abs(result.aggregate![i]! - plain));
    }
    expect(maxErr).to.be.at.most(17 * quantizationStep(p) + 1e-6);
  });
});

describe('secagg masked vectors look uniform', function () {
  this.timeout(60000);

  it('a masked vector passes a 256-bin chi-square on its top byte; the quantised input alone fails it', async () => {
    const p = params(4, { vectorLength: 65536, clippingRange: 8, quantizationRange: 2 ** 22 });
    const inputs = randomInputs(p.participants, p.vectorLength, new Rng(3), 0.1);
    const { result } = await runInProcess({ params: p, inputs, seed: 3 });
    // 255 degrees of freedom: mean 255, sd 22.6; 375 is far in the tail (p ≈ 1e-6), 200 well below the mean.
    for (const id of p.participants) {
      const chi = chiSquareTopByte(result.masked.get(id)!);
      expect(chi, id).to.be.below(375);
      expect(chi, id).to.be.above(150);
    }
    const plain = quantize(inputs.get('c0')!, p, new Rng(1)).words;
    expect(chiSquareTopByte(plain)).to.be.above(1e6);
  });
});

/** Runs a round with a tampering hook and returns the result. */
async function tampered(n: number, tamper: (from: string, reply: SecAggClientMessage) => unknown, extra: Partial<SecAggServerParams> = {}) {
  const p = params(n, { threshold: 3, ...extra });
  const inputs = randomInputs(p.participants, p.vectorLength, new Rng(11));
  const run = await runInProcess({ params: p, inputs, seed: 4, tamper });
  return { ...run, inputs, p };
}

function sumOf(inputs: Map<string, Float32Array>, who: string[], i: number): number {
  return who.reduce((s, id) => s + inputs.get(id)![i]!, 0);
}

describe('secagg error cases', function () {
  this.timeout(60000);

  it('a share for the wrong round is refused with its reason; the round completes without that client', async () => {
    const { result, inputs } = await tampered(5, (from, reply) =>
      from === 'c2' && reply.type === 'secagg.share-keys' ? { ...reply, round: 7 } : reply,
    );
    expect(result.status).to.equal('completed');
    expect(result.survivors).to.deep.equal(['c0', 'c1', 'c3', 'c4']);
    expect(result.rejections.map((r) => r.reason)).to.include('c2: secagg.share-keys is for round 7, but round 1 is in progress');
    expect(Math.abs(result.aggregate![0]! - sumOf(inputs, result.survivors, 0))).to.be.below(1e-4);
  });

  it('a tampered encrypted share fails authentication at its recipient, who refuses; the rest complete', async () => {
    const { result } = await tampered(5, (from, reply) => {
      if (from !== 'c0' || reply.type !== 'secagg.share-keys') return reply;
      const shares = reply.shares.map((s) =>
        s.to === 'c3' ? { ...s, ciphertext: s.ciphertext.map((b, i) => (i === 20 ? b ^ 1 : b)) } : s,
      );
      return { ...reply, shares };
    });
    expect(result.status).to.equal('completed');
    expect(result.survivors).to.not.include('c3');
    const refusal = result.rejections.find((r) => r.from === 'c3');
    expect(refusal?.reason).to.match(/refused: c3: share from c0 in round 1: authentication failed/);
  });

  it('a wrong share at Unmasking is found by the seed commitment and left out; a missing share is refused', async () => {
    const wrong = await tampered(6, (from, reply) => {
      if (from !== 'c1' || reply.type !== 'secagg.unmask') return reply;
      return {
        ...reply,
        seedShares: reply.seedShares.map((s) => (s.of === 'c4' ? { ...s, share: s.share.map((b, i) => (i === 0 ? b ^ 0xff : b)) } : s)),
      };
    });
    expect(wrong.result.status, wrong.result.reason).to.equal('completed');
    expect(wrong.result.rejections.map((r) => r.reason)).to.include(
      'c1 sent a wrong share of the self-mask seed of c4; reconstructed without it',
    );
    for (let i = 0; i < 16; i++)
      expect(Math.abs(wrong.result.aggregate![i]! - sumOf(wrong.inputs, wrong.result.survivors, i))).to.be.below(1e-4);

    const missing = await tampered(6, (from, reply) =>
      from === 'c2' && reply.type === 'secagg.unmask' ? { ...reply, seedShares: reply.seedShares.filter((s) => s.of !== 'c5') } : reply,
    );
    expect(missing.result.status).to.equal('completed');
    expect(missing.result.rejections.map((r) => r.reason)).to.include('c2: seed shares in round 1: missing share of c5');
  });

  it('wrong shares with no spare to identify them abort the round with the secret named', async () => {
    // Threshold 3 of 3: no spare shares, so a corrupted share cannot be worked around.
    const { result } = await tampered(3, (from, reply) =>
      from === 'c0' && reply.type === 'secagg.unmask'
        ? {
            ...reply,
            seedShares: reply.seedShares.map((s) => (s.of === 'c2' ? { ...s, share: s.share.map((b, i) => (i === 3 ? b ^ 1 : b)) } : s)),
          }
        : reply,
    );
    expect(result.status).to.equal('aborted');
    expect(result.reason).to.match(/^Unmasking of round 1: self-mask seed of c2: the 3 shares are inconsistent/);
  });

  it('joining mid-protocol, impostors, late and duplicate answers, and malformed messages are refused without a crash', async () => {
    const p = params(4, { threshold: 3 });
    const server = new SecAggServer(p);
    const clients = new Map(
      p.participants.map((id) => [id, new SecAggClient({ clientId: id, rng: new Rng(1), input: new Float32Array(16) })]),
    );
    let out = server.start();
    for (const o of out) if (o.to !== 'c3') server.receive(o.to, await clients.get(o.to)!.handle(o.message));
    out = (await server.closeStage()).outgoing; // c3 never advertised
    const request = {
      type: 'secagg.advertise-request',
      round: 1,
      participants: p.participants,
      threshold: 3,
      neighbours: 0,
      graphSeed: 1,
      vectorLength: 16,
      clippingRange: 4,
      quantizationRange: 2 ** 20,
    };
    const late = await clients.get('c3')!.handle(request);
    expect(server.receive('c3', late)).to.deep.equal({
      ok: false,
      reason: 'c3: secagg.advertise-keys arrived during ShareKeys of round 1 (expected secagg.share-keys)',
    });
    const intruder = new SecAggClient({ clientId: 'x9', rng: new Rng(1) });
    const joinMsg = await intruder.handle({ ...request, participants: ['x9'], threshold: 1 });
    expect(server.receive('x9', joinMsg)).to.deep.equal({
      ok: false,
      reason: 'x9 was not selected for round 1 and cannot join it mid-protocol (ShareKeys)',
    });
    const replies = new Map<string, SecAggClientMessage | null>();
    for (const o of out) replies.set(o.to, await clients.get(o.to)!.handle(o.message));
    expect(server.receive('c0', replies.get('c1'))).to.deep.include({
      ok: false,
      reason: 'round 1: a message from c0 claims to come from c1',
    });
    expect(server.receive('c3', { ...replies.get('c1')!, clientId: 'c3' }).ok).to.equal(false);
    expect(server.receive('c3', { ...replies.get('c1')!, clientId: 'c3' })).to.deep.equal({
      ok: false,
      reason: 'c3 is not part of ShareKeys of round 1 (dropped out earlier or timed out); it cannot rejoin mid-protocol',
    });
    expect(server.receive('c0', 42)).to.deep.include({ ok: false });
    expect((server.receive('c0', { type: 'secagg.share-keys', round: 'one', clientId: 'c0' }) as { reason: string }).reason).to.match(
      /^malformed secure-aggregation message from c0: round: .*; seedCommitment: .*; shares: /,
    );
    expect(server.receive('c0', replies.get('c0'))).to.deep.equal({ ok: true });
    expect(server.receive('c0', replies.get('c0'))).to.deep.equal({ ok: false, reason: 'c0 already answered ShareKeys of round 1' });
    // Nothing above crashed the round: the remaining clients carry it to completion.
    for (const id of ['c1', 'c2']) expect(server.receive(id, replies.get(id)).ok).to.equal(true);
    let closed = await server.closeStage();
    while (!closed.result) {
      for (const o of closed.outgoing) server.receive(o.to, await clients.get(o.to)!.handle(o.message));
      closed = await server.closeStage();
    }
    expect(closed.result.status).to.equal('completed');
    expect(closed.result.survivors).to.deep.equal(['c0', 'c1', 'c2']);
    // The client side refuses out-of-order and wrong-round requests too.
    await clients
      .get('c0')!
      .handle({ type: 'secagg.unmask-request', round: 2, survivors: [], dropped: [] })
      .then(
        () => expect.fail('accepted a request for another round'),
        (e: Error) => expect(e.message).to.equal('c0: secagg.unmask-request is for round 2, but this client is in round 1'),
      );
  });

  it('an honest client never reveals both shares of the same peer', async () => {
    const p = params(4, { threshold: 3 });
    const server = new SecAggServer(p);
    const clients = new Map(
      p.participants.map((id) => [id, new SecAggClient({ clientId: id, rng: new Rng(1), input: new Float32Array(16) })]),
    );
    let out = server.start();
    for (let stage = 0; stage < 3; stage++) {
      for (const o of out) server.receive(o.to, await clients.get(o.to)!.handle(o.message));
      out = (await server.closeStage()).outgoing;
    }
    expect(out[0]!.message.type).to.equal('secagg.unmask-request');
    // A curious server asks c0 for c2's seed share (as a survivor) and its key share (as dropped).
    const greedy = { type: 'secagg.unmask-request', round: 1, survivors: ['c0', 'c1', 'c2', 'c3'], dropped: ['c2'] };
    await clients
      .get('c0')!
      .handle(greedy)
      .then(
        () => expect.fail('revealed both shares'),
        (e: Error) =>
          expect(e.message).to.equal(
            'c0: refusing Unmasking in round 1: asked for both the seed share and the key share of c2; an honest client never reveals both',
          ),
      );
    // Through respond() the refusal reaches the server as a message, and the client is out of the round.
    const c1 = clients.get('c1')!;
    const refusal = await c1.respond(greedy);
    expect(refusal).to.deep.include({ type: 'secagg.refuse', round: 1, clientId: 'c1' });
    expect(c1.currentStage).to.equal('aborted');
    // A client that answered "c3 survived" will not later hand over c3's key share.
    const c2 = clients.get('c2')!;
    const honest = await c2.handle(out.find((o) => o.to === 'c2')!.message);
    expect(honest?.type).to.equal('secagg.unmask');
    await c2.handle({ type: 'secagg.unmask-request', round: 1, survivors: ['c0', 'c1', 'c2'], dropped: ['c3'] }).then(
      () => expect.fail('answered a second Unmasking'),
      (e: Error) => expect(e.message).to.match(/unexpected secagg.unmask-request in stage unmasked/),
    );
  });

  it('words round-trip through bytes at odd offsets (msgpack may hand unaligned buffers)', () => {
    const words = Uint32Array.from([1, 0xffffffff, 123456789]);
    const padded = new Uint8Array(13);
    padded.set(new Uint8Array(words.buffer), 1);
    expect([...bytesToWords(padded.subarray(1))]).to.deep.equal([...words]);
  });

  it('scenario checks name the field before any client starts', () => {
    const scenario = (sa: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      scenarioSchema.parse({ name: 'x', federation: { clients: 10, clientsPerRound: 10 }, defenses: { secureAggregation: sa, ...extra } });
    expect(() => checkSecureAggregationScenario(scenario({}))).to.not.throw();
    expect(() => checkSecureAggregationScenario(scenario({ quantizationRange: 2 ** 29 }))).to.throw(
      /quantizationRange 536870912 × 10 clients ≥ 2\^32/,
    );
    expect(() => checkSecureAggregationScenario(scenario({ threshold: 12 }))).to.throw(
      /threshold 12: a count must be a whole number of clients ≤ the 10 per round/,
    );
    expect(() => checkSecureAggregationScenario(scenario({ dropouts: [{ client: 'c10', stage: 'unmask' }] }))).to.throw(
      /dropouts\[0\]\.client "c10": no such client/,
    );
    expect(() => checkSecureAggregationScenario(scenario({}, { dp: { clippingNorm: 1, noiseMultiplier: 1 } }))).to.throw(
      /cannot be combined/,
    );
  });
});
