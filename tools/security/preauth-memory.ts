/**
 * Pre-authentication memory of the coordinator's hub: N websockets each send one lenet-sized
 * update frame (2.6 MB) before `hello`. The hub runs in a child process so that its memory is not
 * mixed with the attackers'. Prints close codes, gate counters and the server's memory growth.
 *
 *   node dist/tools/security/preauth-memory.js [N=150] [--no-limits]
 * --no-limits lifts the pending cap and the pre-authentication byte budget (what the hub did before).
 */
import { fork } from 'node:child_process';
import WebSocket from 'ws';
import { ClientHub } from '../../server/coordinator/hub';
import type { GateStats } from '../../server/coordinator/connection-gate';

interface Report {
  mem: NodeJS.MemoryUsage;
  peak: number;
  stats: GateStats;
}

async function serve(): Promise<void> {
  const params = 650000;
  const hub = new ClientHub({
    tokens: new Map([['t'.repeat(32), { clientId: 'c0', clientIndex: 0 }]]),
    publicScenario: {},
    paramCount: params,
    maxFrameBytes: 4 * params + 65536,
    log: () => undefined,
    ...(process.argv.includes('--no-limits') ? { limits: { maxPending: 1e9, preAuthMaxBytes: Infinity } } : {}),
  });
  const port = await hub.listen(0);
  // Peak, not just the end state: sample while the flood is on.
  let peak = 0;
  setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10).unref();
  process.send?.({ port, base: process.memoryUsage() });
  process.on('message', () => process.send?.({ mem: process.memoryUsage(), peak, stats: hub.gateStats() }));
}

async function attack(n: number): Promise<void> {
  const server = fork(__filename, ['--serve', ...process.argv.filter((a) => a === '--no-limits')]);
  const { port, base } = await new Promise<{ port: number; base: NodeJS.MemoryUsage }>((resolve) =>
    server.once('message', (m) => resolve(m as { port: number; base: NodeJS.MemoryUsage })),
  );
  const frame = Buffer.alloc(2.6e6);
  const codes = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}`);
          ws.on('open', () => ws.send(frame));
          ws.on('error', () => undefined);
          ws.on('close', (code) => resolve(code));
        }),
    ),
  );
  server.send('report');
  const r = await new Promise<Report>((resolve) => server.once('message', (m) => resolve(m as Report)));
  server.kill();
  const byCode: Record<number, number> = {};
  for (const c of codes) byCode[c] = (byCode[c] ?? 0) + 1;
  const mb = (x: number) => (x / 1e6).toFixed(1);
  process.stdout.write(
    `${n} unauthenticated connections × 2.6 MB: close codes ${JSON.stringify(byCode)}, gate ${JSON.stringify(r.stats)}, server RSS peak +${mb(r.peak - base.rss)} MB, after +${mb(r.mem.rss - base.rss)} MB, arrayBuffers ${mb(r.mem.arrayBuffers)} MB\n`,
  );
}

if (process.argv.includes('--serve')) void serve();
else void attack(Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 150));
