/**
 * What the CLI exposes by default (real processes): `fedleak server` listens on 127.0.0.1 unless
 * --host is given, and warns for a wildcard address; `fedleak run --dashboard-host` warns.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
const CHILD_ENV = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };

/** Starts `fedleak server`, resolves with its stderr once it says where it listens, then stops it. */
async function serverBanner(dir: string, extra: string[]): Promise<string> {
  const scenario = path.join(dir, 's.json');
  fs.writeFileSync(
    scenario,
    JSON.stringify({
      name: 'exposure',
      seed: 1,
      data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 60, testFraction: 0.2 },
      model: { name: 'mlp', hidden: [4] },
      federation: { clients: 1, clientsPerRound: 1, rounds: 1, algorithm: 'fedsgd', batchSize: 2, learningRate: 0.1 },
      attack: { name: 'none' },
    }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      BIN,
      'server',
      '-s',
      scenario,
      '--port',
      '0',
      '--out',
      path.join(dir, `out-${extra.length}`),
      '--tokens',
      path.join(dir, `t-${extra.length}`),
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: CHILD_ENV,
    },
  );
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/listening on ws:/.test(stderr)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
    });
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  return stderr;
}

describe('CLI exposure defaults (real processes)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-expose-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fedleak server listens on 127.0.0.1 by default, without a warning', async () => {
    const stderr = await serverBanner(dir, []);
    expect(stderr)
      .to.match(/listening on ws:\/\/127\.0\.0\.1:\d+/)
      .and.not.match(/warning/);
  });

  it('fedleak server --host 0.0.0.0 warns that every interface is exposed', async () => {
    const stderr = await serverBanner(dir, ['--host', '0.0.0.0']);
    expect(stderr).to.match(/warning: --host 0\.0\.0\.0 accepts connections from every network interface/);
  });
});
