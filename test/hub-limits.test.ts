/**
 * Pre-authentication limits of the coordinator's hub, with real sockets on loopback: the cap on
 * pending connections, the handshake deadline (raw TCP and websockets without hello), the small
 * pre-authentication frame budget (1009), the per-address hello failure limit, close() ending idle
 * sockets, and log lines that cannot be forged or blown up by a peer.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import WebSocket from 'ws';
import { encodeMessage, decodeFrame, type WireMessage } from '../shared/wire';
import { ClientHub, type HubOptions } from '../server/coordinator/hub';
import { Packr } from 'msgpackr';
import { FailureLimiter } from '../server/coordinator/failure-limiter';

const GOOD = 'a'.repeat(32);
const GOOD2 = 'b'.repeat(32);

function makeHub(extra: Partial<HubOptions>, log: string[] = []): ClientHub {
  const tokens = new Map([
    [GOOD, { clientId: 'c0', clientIndex: 0 }],
    [GOOD2, { clientId: 'c1', clientIndex: 1 }],
  ]);
  return new ClientHub({ tokens, publicScenario: {}, paramCount: 4, maxFrameBytes: 4 << 20, log: (l) => log.push(l), ...extra });
}

function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.on('error', () => undefined);
  });
}

interface WsOutcome {
  messages: WireMessage[];
  code: number;
}

/** Opens a websocket, runs `script` once open, collects decoded messages until the server closes it. */
function wsSession(
  port: number,
  script: (ws: WebSocket) => void,
): { ws: WebSocket; done: Promise<WsOutcome>; next: () => Promise<WireMessage> } {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const messages: WireMessage[] = [];
  const waiters: Array<(m: WireMessage) => void> = [];
  ws.on('message', (d: Buffer) => {
    const m = decodeFrame(d, 'client');
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  ws.on('error', () => undefined);
  ws.once('open', () => script(ws));
  const done = new Promise<WsOutcome>((resolve) => ws.once('close', (code) => resolve({ messages, code })));
  const next = () => {
    const m = messages.shift();
    return m ? Promise.resolve(m) : new Promise<WireMessage>((resolve) => waiters.push(resolve));
  };
  return { ws, done, next };
}

const hello = (token: string) => encodeMessage({ type: 'hello', token, agent: 'test' });

describe('coordinator hub: limits before authentication (real sockets)', function () {
  this.timeout(30000);
  const hubs: ClientHub[] = [];
  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.close('test over', 500);
  });

  it('caps pending unauthenticated connections (150 opened, 100 held) and close() ends the idle ones', async () => {
    const hub = makeHub({ limits: { maxPending: 100, handshakeTimeoutMs: 600000 } });
    const port = await hub.listen(0);
    const sockets = await Promise.all(Array.from({ length: 150 }, () => rawSocket(port)));
    let closedEarly = 0;
    let reportFifty: () => void = () => undefined;
    const fifty = new Promise<void>((resolve) => (reportFifty = resolve));
    for (const s of sockets) closed(s).then(() => ++closedEarly === 50 && reportFifty());
    await fifty;
    expect(hub.gateStats()).to.include({ pending: 100, refusedOverCapacity: 50, timedOut: 0 });
    // The run is over: the idle TCP connections must not keep the server (and its process) alive.
    await hub.close('run finished', 500);
    await Promise.all(sockets.map(closed));
    expect(sockets.every((s) => s.destroyed)).to.equal(true);
  });

  it('drops a raw TCP connection that never upgrades and refuses a websocket that never says hello, at the deadline', async () => {
    const log: string[] = [];
    const hub = makeHub({ limits: { handshakeTimeoutMs: 300 } }, log);
    hubs.push(hub);
    const port = await hub.listen(0);
    const raw = await rawSocket(port);
    const silent = wsSession(port, () => undefined);
    await closed(raw);
    const out = await silent.done;
    expect(out.code).to.equal(4001);
    expect(out.messages.map((m) => (m.type === 'error' ? m.code : m.type))).to.deep.equal(['unauthorized']);
    expect(hub.gateStats().timedOut).to.equal(2);
    // Still serving: a client that says hello in time is welcomed.
    const good = wsSession(port, (ws) => ws.send(hello(GOOD)));
    expect((await good.next()).type).to.equal('welcome');
    good.ws.close();
    await good.done;
  });

  it('closes with 1009 a frame over the small pre-authentication budget; after hello the full frame limit applies', async () => {
    const log: string[] = [];
    const hub = makeHub({}, log);
    hubs.push(hub);
    const port = await hub.listen(0);
    const big = new Uint8Array(200 * 1024); // well under maxFrameBytes (4 MiB), over the 64 KiB pre-auth budget
    const early = wsSession(port, (ws) => ws.send(big));
    expect((await early.done).code).to.equal(1009);
    expect(log.some((l) => /frame-too-large: .*before hello/.test(l))).to.equal(true);
    // The same frame from an authenticated client is decoded (and refused as not a map), the connection stays.
    const late = wsSession(port, (ws) => ws.send(hello(GOOD)));
    expect((await late.next()).type).to.equal('welcome');
    late.ws.send(big);
    const reply = await late.next();
    expect(reply.type === 'error' && reply.code).to.equal('bad-frame');
    expect(hub.isConnected('c0')).to.equal(true);
    late.ws.close();
    await late.done;
  });

  it('rate-limits failed hellos per address (and their log lines); an authenticated client is untouched', async () => {
    const log: string[] = [];
    const hub = makeHub({ helloFailures: { burst: 5, refillPerSecond: 0.0001 } }, log);
    hubs.push(hub);
    const port = await hub.listen(0);
    const good = wsSession(port, (ws) => ws.send(hello(GOOD)));
    expect((await good.next()).type).to.equal('welcome');
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const bad = wsSession(port, (ws) => ws.send(hello(`wrong-${i}`)));
      const out = await bad.done;
      const err = out.messages.find((m) => m.type === 'error');
      outcomes.push(`${err && err.type === 'error' ? err.code : 'none'}/${out.code}`);
    }
    expect(outcomes).to.deep.equal([...Array(5).fill('unauthorized/4001'), ...Array(3).fill('rate-limited/4029')]);
    // Rate-limited even with a valid token: the limit is checked before the token is looked at.
    const blocked = wsSession(port, (ws) => ws.send(hello(GOOD2)));
    expect((await blocked.done).code).to.equal(4029);
    expect(hub.isConnected('c0')).to.equal(true);
    // A flood of 200 more: each is refused, but the log gets the first ten lines and one per hundred.
    for (let batch = 0; batch < 4; batch++) {
      const codes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => wsSession(port, (ws) => ws.send(hello(`flood-${batch}-${i}`))).done.then((o) => o.code)),
      );
      expect(codes.every((c) => c === 4029)).to.equal(true);
    }
    const limitedLines = log.filter((l) => l.includes('rate-limited'));
    expect(limitedLines.length).to.be.within(10, 13);
    expect(limitedLines[limitedLines.length - 1]).to.match(/\((100|200) times from this address\)$/);
    good.ws.close();
    await good.done;
  });

  it('logs and echoes peer-supplied type/v escaped and cut: no forged lines, no 1 MB log lines', async () => {
    const log: string[] = [];
    const hub = makeHub({}, log);
    hubs.push(hub);
    const port = await hub.listen(0);
    const packr = new Packr({ useRecords: false });
    const forged = `x\n2026-01-01 server: round 9: test accuracy 100 %\u001b[2J${'A'.repeat(1 << 20)}`;
    const s = wsSession(port, (ws) => ws.send(hello(GOOD)));
    expect((await s.next()).type).to.equal('welcome');
    const replies: WireMessage[] = [];
    s.ws.send(packr.pack({ v: 1, type: forged }));
    replies.push(await s.next());
    s.ws.send(packr.pack({ v: forged, type: 'ready' }));
    replies.push(await s.next());
    s.ws.send(encodeMessage({ type: 'error', code: forged, message: forged, ref: forged }));
    s.ws.send(encodeMessage({ type: 'ready' }));
    await new Promise<void>((resolve) => hub.once('ready', () => resolve())); // the client's error was processed before
    expect(replies.map((r) => (r.type === 'error' ? r.code : r.type))).to.deep.equal(['unknown-type', 'bad-version']);
    for (const r of replies) expect(r.type === 'error' && r.message.length).to.be.below(1000);
    const mine = log.filter((l) => l.includes('c0'));
    expect(mine.length).to.be.at.least(3);
    for (const line of mine) {
      expect(line.length, line.slice(0, 80)).to.be.below(1500);
      // eslint-disable-next-line no-control-regex -- the test looks for raw control characters
      expect(/[\u0000-\u001f\u007f]/.test(line), JSON.stringify(line.slice(0, 120))).to.equal(false);
    }
    expect(mine.some((l) => l.includes('\\u000a2026-01-01 server: round 9'))).to.equal(true); // visible, not a new line
    s.ws.close();
    await s.done;
  });

  it('lets an address try again as its failure budget refills', () => {
    let now = 0;
    const limiter = new FailureLimiter({ burst: 2, refillPerSecond: 0.5, now: () => now });
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    expect(limiter.blocked('10.0.0.1')).to.equal(true);
    expect(limiter.blocked('10.0.0.2')).to.equal(false);
    expect(limiter.retryAfterSeconds('10.0.0.1')).to.equal(2);
    now = 2000;
    expect(limiter.blocked('10.0.0.1')).to.equal(false);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.blocked('10.0.0.1')).to.equal(true);
  });
});
