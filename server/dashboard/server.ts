/**
 * Live dashboard of a run: node:http serves one page (page.ts); socket.io pushes round accuracy,
 * attack progress and reconstruction images (PNG data URLs) as the run's events happen. A browser
 * that connects late first receives a 'state' snapshot of everything so far.
 *
 * Usage:
 *   const events = createRunEvents();
 *   const dashboard = await startDashboard({ events, port: 8080, title: scenario.name });
 *   console.error(`dashboard: ${dashboard.url}`);
 *   …run, emitting on `events`…
 *   await dashboard.close();
 *
 * It listens on 127.0.0.1 unless told otherwise: the pictures are reconstructions of clients'
 * private data. Every request needs the access token of the printed URL and a Host naming this
 * dashboard; browsers from other origins are refused (access.ts).
 *
 * socket.io events (server → browser): 'state' {title, totalRounds, rounds, attacks, running, log,
 * ended, verdict}, 'round' {record, totalRounds}, 'attack-start', 'attack-progress' (at most every
 * progressIntervalMs per attack, except those carrying previewUrl: the attack's current guess),
 * 'attack-done' {record, image?}, 'verdict' {threats, recognisableSsim}, 'log' line, 'end'.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import type { AttackRecord, RoundRecord } from '../report/results';
import type { AttackProgressEvent, AttackStartEvent, RunEvents, RunEventMap } from '../report/events';
import { dashboardHtml } from './page';
import { previewDataUrl } from './preview-png';
import { attackVerdicts, RECOGNISABLE_SSIM, type ThreatVerdict } from '../report/verdict';
import { CLASSROOM_PATHS, classroomRoutes, type BrowserSlot } from './classroom-routes';
import { allowedHostsFor, checkAccess, checkHost, newAccessToken, type AccessDecision, type AccessPolicy } from './access';

export interface DashboardOptions {
  events: RunEvents;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Shown in the page heading (e.g. the scenario name). */
  title?: string;
  /** Minimum time between two progress pushes of the same attack. Default 250 ms. */
  progressIntervalMs?: number;
  /** Access token required on every request; default a fresh random one. */
  token?: string;
}

export interface Dashboard {
  /** The page, with the access token (?token=…): give it only to whom may see the run. */
  url: string;
  port: number;
  token: string;
  /** Client slots the run reserved for browsers (federation.browserClients): /classroom/slot hands each out once. */
  offerBrowserSlots(slots: BrowserSlot[]): void;
  close(): Promise<void>;
}

export type { BrowserSlot };

export interface DashboardAttack {
  record: AttackRecord;
  /** data:image/png;base64,… of the comparison picture. */
  image?: string;
}

/** A progress event as the page gets it: the guess as a PNG data URL instead of raw floats. */
export type DashboardProgress = Omit<AttackProgressEvent, 'preview'> & { previewUrl?: string };

export interface RunningAttack extends AttackStartEvent {
  progress?: DashboardProgress;
  /** The latest picture of the attack's guess. */
  previewUrl?: string;
}

export interface DashboardState {
  title: string;
  totalRounds: number;
  rounds: RoundRecord[];
  attacks: DashboardAttack[];
  running: RunningAttack[];
  log: string[];
  ended: boolean;
  /** The report's verdict over the attacks finished so far (server/report/verdict.ts). */
  verdict: ThreatVerdict[];
}

const MAX_LOG_LINES = 200;

function jobKey(e: { round: number; target: string; view: string }): string {
  return `${e.round}/${e.target}/${e.view}`;
}

function pngDataUrl(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return `data:image/png;base64,${fs.readFileSync(file).toString('base64')}`;
  } catch {
    return undefined; // the picture is a nicety; its absence must not break the run
  }
}

function refuse(res: http.ServerResponse, decision: Exclude<AccessDecision, { ok: true }>): void {
  res.writeHead(decision.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`dashboard: ${decision.reason}\n`);
}

/** The dashboard's live view of a run, updated from the run's events. */
interface LiveState {
  state: DashboardState;
  running: Map<string, RunningAttack>;
  lastPush: Map<string, number>;
  /** Least milliseconds between two progress pushes of one attack. */
  interval: number;
}

function snapshotOf(live: LiveState): DashboardState {
  return { ...live.state, running: [...live.running.values()] };
}

/** The page, the classroom routes and /state.json, all behind the access check. */
function routeRequests(
  page: string,
  classroom: ReturnType<typeof classroomRoutes>,
  access: AccessPolicy,
  live: LiveState,
): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const decision = checkAccess(req, access);
    if (!decision.ok) return refuse(res, decision);
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      res.end(page);
      return;
    }
    if (CLASSROOM_PATHS.has(url.pathname)) {
      classroom.handle(req, res, url.pathname);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/state.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(snapshotOf(live)));
      return;
    }
    // socket.io answers its own /socket.io/ paths before this handler runs.
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
}

/**
 * socket.io answers /socket.io/ before the request handler: its handshake is checked here, its
 * client script (public code) needs the right Host only.
 */
function guardedSocketServer(server: http.Server, access: AccessPolicy): SocketServer {
  const io = new SocketServer(server, {
    serveClient: true,
    allowRequest: (req, cb) => {
      const d = checkAccess(req, access);
      cb(d.ok ? null : d.reason, d.ok);
    },
  });
  const engineHandlers = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const d = checkHost(req, access);
    if (!d.ok) return refuse(res, d);
    for (const h of engineHandlers) (h as (q: http.IncomingMessage, r: http.ServerResponse) => void).call(server, req, res);
  });
  return io;
}

/** Mirrors the run's events into the live state and pushes them to every page; returns the detach function. */
function relayRunEvents(events: RunEvents, io: SocketServer, live: LiveState): () => void {
  const { state, running, lastPush } = live;
  const onRound = (...[record, totalRounds]: RunEventMap['round']) => {
    state.totalRounds = totalRounds;
    state.ended = false; // a sweep runs its variants one after another on the same bus
    state.rounds.push(record);
    io.emit('round', { record, totalRounds });
  };
  const onStart = (...[e]: RunEventMap['attack-start']) => {
    running.set(jobKey(e), { ...e });
    io.emit('attack-start', e);
  };
  const onProgress = (...[e]: RunEventMap['attack-progress']) => {
    const key = jobKey(e);
    const job = running.get(key);
    const { preview, ...progress } = e;
    const previewUrl = preview ? previewDataUrl(preview.images, preview.count, preview.shape) : undefined;
    if (job) {
      job.progress = progress;
      if (previewUrl) job.previewUrl = previewUrl;
    }
    const now = Date.now();
    // A guess is never dropped by the throttle: it arrives rarely (the attack throttles it) and shows progress best.
    if (!previewUrl && now - (lastPush.get(key) ?? -Infinity) < live.interval) return;
    lastPush.set(key, now);
    io.emit('attack-progress', previewUrl ? { ...progress, previewUrl } : progress);
  };
  const onDone = (...[e]: RunEventMap['attack-done']) => {
    const key = jobKey(e.record);
    running.delete(key);
    lastPush.delete(key);
    const attack: DashboardAttack = { record: e.record, image: pngDataUrl(e.imageFile) };
    state.attacks.push(attack);
    io.emit('attack-done', attack);
    state.verdict = attackVerdicts(state.attacks.map((a) => a.record));
    io.emit('verdict', { threats: state.verdict, recognisableSsim: RECOGNISABLE_SSIM });
  };
  const onLog = (...[line]: RunEventMap['log']) => {
    state.log.push(line);
    if (state.log.length > MAX_LOG_LINES) state.log.shift();
    io.emit('log', line);
  };
  const onEnd = () => {
    state.ended = true;
    io.emit('end');
  };
  events.on('round', onRound);
  events.on('attack-start', onStart);
  events.on('attack-progress', onProgress);
  events.on('attack-done', onDone);
  events.on('log', onLog);
  events.on('end', onEnd);
  return () => {
    events.off('round', onRound);
    events.off('attack-start', onStart);
    events.off('attack-progress', onProgress);
    events.off('attack-done', onDone);
    events.off('log', onLog);
    events.off('end', onEnd);
  };
}

function listenOn(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`dashboard: cannot listen on ${host}:${port} (${err.code ?? err.message})`)),
    );
    server.listen(port, host, () => resolve());
  });
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const title = options.title ?? 'fedleak run';
  const live: LiveState = {
    state: { title, totalRounds: 0, rounds: [], attacks: [], running: [], log: [], ended: false, verdict: [] },
    running: new Map(),
    lastPush: new Map(),
    interval: options.progressIntervalMs ?? 250,
  };
  const classroom = classroomRoutes(title);
  // allowedHosts needs the port: filled in once listening (no request is served before).
  const policy: { token: string; allowedHosts: Set<string> } = { token: options.token ?? newAccessToken(), allowedHosts: new Set() };
  const server = http.createServer(routeRequests(dashboardHtml(title), classroom, policy, live));
  const io = guardedSocketServer(server, policy);
  io.on('connection', (socket) => socket.emit('state', snapshotOf(live)));
  const detach = relayRunEvents(options.events, io, live);
  try {
    await listenOn(server, host, options.port);
  } catch (err) {
    detach();
    io.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  for (const h of allowedHostsFor(host, port)) policy.allowedHosts.add(h);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const shutDown = () =>
    new Promise<void>((resolve) => {
      detach();
      // io.close() disconnects the sockets and closes the http server; drop idle page connections too.
      io.close(() => resolve());
      server.closeAllConnections();
    });
  let closed: Promise<void> | null = null;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}/?token=${policy.token}`,
    port,
    token: policy.token,
    offerBrowserSlots(offered) {
      classroom.offer(offered);
    },
    close() {
      closed ??= shutDown();
      return closed;
    },
  };
}
