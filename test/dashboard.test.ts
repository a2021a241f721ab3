import { expect } from 'chai';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import WebSocket from 'ws';
import { startDashboard, type Dashboard, type DashboardAttack, type DashboardState } from '../server/dashboard/server';
import { createRunEvents, type RunEvents } from '../server/report/events';
import type { AttackRecord, RoundRecord } from '../server/report/results';

/**
 * Just enough of the socket.io protocol (engine.io v4 over a websocket) to receive events: no
 * socket.io-client in node_modules, and the real browser bundle needs a browser.
 */
class SocketIoProbe {
  private readonly waiting = new Map<string, Array<(data: unknown) => void>>();
  private readonly seen = new Map<string, unknown[]>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (text === '2')
        ws.send('3'); // engine.io ping → pong
      else if (text.startsWith('0'))
        ws.send('40'); // engine.io open → socket.io connect to "/"
      else if (text.startsWith('42')) {
        const [name, data] = JSON.parse(text.slice(2)) as [string, unknown];
        const resolvers = this.waiting.get(name);
        if (resolvers && resolvers.length > 0) (resolvers.shift() as (d: unknown) => void)(data);
        else this.seen.set(name, [...(this.seen.get(name) ?? []), data]);
      }
    });
  }
  static connect(port: number, token: string, headers: Record<string, string> = {}): SocketIoProbe {
    return new SocketIoProbe(new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&token=${token}`, { headers }));
  }
  /** The next occurrence of event `name` (one already received counts). */
  next<T>(name: string): Promise<T> {
    const queued = this.seen.get(name);
    if (queued && queued.length > 0) return Promise.resolve(queued.shift() as T);
    return new Promise<T>((resolve) => this.waiting.set(name, [...(this.waiting.get(name) ?? []), resolve as (d: unknown) => void]));
  }
  close(): void {
    this.ws.close();
  }
}

function round(n: number, accuracy: number): RoundRecord {
  return { round: n, participants: ['c0', 'c1'], dropped: [], testAccuracy: accuracy, testLoss: 1.5, seconds: 0.5 };
}

function record(): AttackRecord {
  return {
    round: 1,
    target: 'c1',
    attack: 'dlg',
    view: 'plain',
    batchSize: 1,
    mse: 0.01,
    psnr: 20,
    ssim: 0.8,
    labelAccuracy: 1,
    iterations: 50,
    evaluations: 600,
    finalObjective: 1e-5,
    seconds: 3,
    image: 'images/round-1-c1-plain.png',
  };
}

describe('dashboard', function () {
  this.timeout(20000);
  let events: RunEvents;
  let dashboard: Dashboard;
  let dir: string;
  const probes: SocketIoProbe[] = [];
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-dashboard-'));
    events = createRunEvents();
    dashboard = await startDashboard({ events, port: 0, title: 'dash <test>', progressIntervalMs: 0 });
  });
  afterEach(async () => {
    for (const p of probes.splice(0)) p.close();
    await dashboard.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page and the socket.io browser client', async () => {
    const page = await fetch(dashboard.url);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('fedleak · dash &#60;test&#62;'); // the title is escaped
    expect(html).to.include('/socket.io/socket.io.min.js');
    const client = await fetch(new URL('/socket.io/socket.io.min.js', dashboard.url));
    expect(client.status).to.equal(200);
    expect((await client.text()).length).to.be.greaterThan(10000);
    expect((await fetch(new URL(`/nope?token=${dashboard.token}`, dashboard.url))).status).to.equal(404);
  });

  it('hands each reserved browser slot out once, only with the access token', async () => {
    const slotUrl = (token: string) => new URL(`/classroom/slot?token=${token}`, dashboard.url);
    expect((await fetch(slotUrl('wrong'))).status).to.equal(401);
    expect((await fetch(slotUrl(dashboard.token))).status).to.equal(409); // nothing reserved yet
    dashboard.offerBrowserSlots([{ port: 4321, token: 'client-token-1' }]);
    const first = await fetch(slotUrl(dashboard.token));
    expect(first.status).to.equal(200);
    expect(await first.json()).to.deep.equal({ url: 'ws://127.0.0.1:4321', token: 'client-token-1' });
    expect((await fetch(slotUrl(dashboard.token))).status).to.equal(409);
    const page = await fetch(new URL(`/draw?token=${dashboard.token}`, dashboard.url));
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('id="pad"');
    expect((await fetch(new URL('/draw', dashboard.url))).status).to.equal(401);
  });

  it("turns an attack's preview into a PNG data URL with the restart", async () => {
    const probe = SocketIoProbe.connect(dashboard.port, dashboard.token);
    probes.push(probe);
    await probe.next<DashboardState>('state');
    const images = new Float32Array(28 * 28).fill(0.5);
    events.emit('attack-progress', {
      round: 1,
      target: 'c0',
      view: 'plain',
      attack: 'dlg',
      iteration: 3,
      objective: 0.1,
      restart: 1,
      restarts: 3,
      preview: { images, count: 1, shape: [28, 28, 1] },
    });
    const pushed = await probe.next<Record<string, unknown>>('attack-progress');
    expect(pushed).to.not.have.property('preview');
    expect([pushed.restart, pushed.restarts]).to.deep.equal([1, 3]);
    const png = PNG.sync.read(Buffer.from(String(pushed.previewUrl).replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect([png.width, png.height, png.data[0]]).to.deep.equal([28, 28, 128]);
  });

  it('sends a late browser the state so far, then live rounds, progress and images', async () => {
    events.emit('round', round(1, 0.31), 3);
    events.emit('attack-start', { round: 1, target: 'c1', view: 'plain', attack: 'dlg', iterations: 50 });
    const probe = SocketIoProbe.connect(dashboard.port, dashboard.token);
    probes.push(probe);
    const state = await probe.next<DashboardState>('state');
    expect(state.title).to.equal('dash <test>');
    expect(state.totalRounds).to.equal(3);
    expect(state.rounds.map((r) => r.testAccuracy)).to.deep.equal([0.31]);
    expect(state.running.map((r) => r.target)).to.deep.equal(['c1']);

    events.emit('round', round(2, 0.52), 3);
    const live = await probe.next<{ record: RoundRecord; totalRounds: number }>('round');
    expect([live.record.round, live.record.testAccuracy, live.totalRounds]).to.deep.equal([2, 0.52, 3]);

    events.emit('attack-progress', { round: 1, target: 'c1', view: 'plain', attack: 'dlg', iteration: 12, objective: 0.5 });
    expect((await probe.next<{ iteration: number }>('attack-progress')).iteration).to.equal(12);

    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(200);
    const file = path.join(dir, 'round-1-c1-plain.png');
    fs.writeFileSync(file, PNG.sync.write(png));
    events.emit('attack-done', { record: record(), imageFile: file });
    const done = await probe.next<DashboardAttack>('attack-done');
    expect(done.record.psnr).to.equal(20);
    expect(done.image).to.match(/^data:image\/png;base64,/);
    const decoded = PNG.sync.read(Buffer.from((done.image as string).split(',')[1], 'base64'));
    expect([decoded.width, decoded.height]).to.deep.equal([3, 2]);

    // A second browser now gets the finished attack (with its picture) in its snapshot.
    const late = SocketIoProbe.connect(dashboard.port, dashboard.token);
    probes.push(late);
    const later = await late.next<DashboardState>('state');
    expect(later.running).to.deep.equal([]);
    expect(later.attacks.map((a) => a.record.target)).to.deep.equal(['c1']);
    expect(later.attacks[0].image).to.equal(done.image);
  });

  it('refuses a websocket from another origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${dashboard.port}/socket.io/?EIO=4&transport=websocket&token=${dashboard.token}`, {
      headers: { origin: 'http://evil.example' },
    });
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('cross-origin websocket was accepted')));
      ws.on('error', () => undefined);
    });
    ws.terminate();
    expect(status).to.be.within(400, 499);
  });

  it('requires the access token for the page, /state.json and the socket.io handshake', async () => {
    expect(dashboard.url).to.match(/\?token=[0-9a-f]{32}$/);
    const base = `http://127.0.0.1:${dashboard.port}`;
    events.emit('round', round(1, 0.31), 3);
    for (const p of ['/', '/state.json', '/?token=wrong', '/state.json?token=0123'])
      expect((await fetch(base + p)).status, p).to.equal(401);
    const state = await fetch(`${base}/state.json`, { headers: { 'x-fedleak-token': dashboard.token } });
    expect(state.status).to.equal(200);
    expect(((await state.json()) as DashboardState).rounds).to.have.length(1);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${dashboard.port}/socket.io/?EIO=4&transport=websocket`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('a socket.io connection without token was accepted')));
      ws.on('error', () => undefined);
    });
    expect(status).to.be.within(400, 499);
  });

  it('refuses a foreign Host even with the token and a matching Origin (DNS rebinding)', async () => {
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: dashboard.port, path: `/state.json?token=${dashboard.token}`, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    const rebound = `evil.example:${dashboard.port}`;
    expect(await get({ host: rebound, origin: `http://${rebound}` })).to.equal(403);
    expect(await get({ host: rebound })).to.equal(403);
    expect(await get({ host: `localhost:${dashboard.port}`, origin: `http://${rebound}` })).to.equal(403);
    expect(await get({ host: `localhost:${dashboard.port}` })).to.equal(200);
  });

  it('stops listening and listening to the run when closed', async () => {
    await dashboard.close();
    expect(events.listenerCount('round')).to.equal(0);
    const refused = await fetch(dashboard.url).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
  });
});
