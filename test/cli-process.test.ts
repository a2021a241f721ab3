import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');

/** A loopback port that was free a moment ago (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Finished {
  code: number | null;
  stderr: string;
}

describe('cli as a real process', () => {
  it('`fedleak scenarios` into a closed pipe exits 0 without an EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'scenarios'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Close the read end before the child can write anything: every write then fails with EPIPE, like `| head -1` does.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.to.contain('EPIPE');
    expect(stderr).not.to.contain('at ');
    expect(code).to.equal(0);
  });

  it('`fedleak client` against a closed port retries, then says to start the server first', async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, [BIN, 'client', '--server', `ws://127.0.0.1:${port}`, '--token', 't', '--wait', '1'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = await new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
    expect(done.code).to.equal(1);
    expect(done.stderr).to.match(/retrying for up to 1 s/);
    expect(done.stderr).to.match(/cannot reach the server at ws:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED, [2-9]\d* attempts/);
    expect(done.stderr).to.contain('Start the server first');
    expect(done.stderr).not.to.contain('internal error');
  });

  it('`fedleak client` started before its server connects once the server is up', async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, [BIN, 'client', '--server', `ws://127.0.0.1:${port}`, '--token', 'late-token', '--wait', '60'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Start the server only once the client has reported that it is retrying.
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('retrying')) resolve();
      }),
    );
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    // The client's first frame is its hello, which carries its token (msgpack keeps strings as UTF-8 bytes).
    const hello = await new Promise<Buffer>((resolve) =>
      wss.on('connection', (socket) =>
        socket.once('message', (data: Buffer) => {
          resolve(data);
          socket.close(1000, 'test over');
        }),
      ),
    );
    expect(hello.includes(Buffer.from('late-token'))).to.equal(true);
    await exited;
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});
