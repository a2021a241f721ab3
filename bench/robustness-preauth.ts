/**
 * Pre-authentication memory: a real `fedleak server` process, then `connections` raw TCP peers that
 * upgrade to websocket and never say hello: first idle, then each sends all but the last byte of one
 * `frameBytes` frame (the server must buffer or refuse it). The server's resident memory (VmRSS,
 * /proc, Linux) is read before, with the idle peers, and with the partial frames.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PreauthResult {
  connections: number;
  frameBytes: number;
  /** MB of server VmRSS. */
  baselineMb: number;
  idleMb: number;
  partialFramesMb: number;
  /** Peers the server had closed by the end (a pre-auth cap or deadline). */
  closedByServer: number;
}

const FEDLEAK = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** RSS once the server has drained its sockets: polled until two readings 500 ms apart agree within 2 MB (at most 20 s). */
async function settledRssMb(pid: number): Promise<number> {
  let last = rssMb(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssMb(pid);
    if (Math.abs(now - last) <= 2) return now;
    last = now;
  }
  return last;
}

/** A TCP peer that completes the websocket upgrade and then does nothing. */
function upgradedPeer(port: number, onClose: () => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', onClose);
  });
}

/** A masked binary frame header announcing `length` bytes (client frames must be masked). */
function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  randomBytes(4).copy(h, 10);
  return h;
}

function startServer(dir: string): Promise<{ pid: number; port: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      FEDLEAK,
      'server',
      '--scenario',
      'fedavg-mnist',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--tokens',
      path.join(dir, 'tokens'),
      '-o',
      path.join(dir, 'out'),
      '-q',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' },
    },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(err);
      if (m) resolve({ pid: child.pid as number, port: Number(m[1]), stop: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`fedleak server exited (${code}): ${err}`)));
  });
}

/** frameBytes default: just under fedavg-mnist's largest frame (4 × 800 examples × 785 values + 64 KiB ≈ 2.58 MB). */
export async function benchPreauth(
  connections = 500,
  frameBytes = 2_500_000,
  log: (line: string) => void = () => undefined,
): Promise<PreauthResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-preauth-'));
  const server = await startServer(dir);
  const peers: net.Socket[] = [];
  let closedByServer = 0;
  try {
    const baselineMb = rssMb(server.pid);
    for (let i = 0; i < connections; i++) {
      const peer = await upgradedPeer(server.port, () => closedByServer++).catch(() => null);
      if (peer) peers.push(peer);
    }
    const idleMb = await settledRssMb(server.pid);
    log(`preauth: ${peers.length} idle upgraded peers: server RSS ${baselineMb} → ${idleMb} MB`);
    const body = Buffer.alloc(frameBytes - 1);
    await Promise.all(
      peers.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.destroyed) return resolve();
            p.write(frameHeader(frameBytes));
            p.write(body, () => resolve());
            p.once('close', () => resolve());
          }),
      ),
    );
    const partialFramesMb = await settledRssMb(server.pid);
    log(
      `preauth: each sent ${frameBytes - 1} of a ${frameBytes}-byte frame: server RSS ${partialFramesMb} MB; ${closedByServer} peers closed by the server`,
    );
    return { connections, frameBytes, baselineMb, idleMb, partialFramesMb, closedByServer };
  } finally {
    for (const p of peers) p.destroy();
    server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
