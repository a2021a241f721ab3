import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A one-round run without attack: the cheapest command that sets up the tensor backend. */
function runWithBackend(backend: string): Promise<{ code: number; stderr: string }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-backend-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // Not -q: with -q the client processes stay silent about their backend (one line per run).
      [path.join(ROOT, 'bin', 'fedleak.js'), 'run', 'quickstart', '--set', 'federation.rounds=1', '--set', 'attack.name=none', '-o', out],
      { cwd: ROOT, env: { ...process.env, FEDLEAK_BACKEND: backend } },
      (err, _stdout, stderr) => {
        fs.rmSync(out, { recursive: true, force: true });
        resolve({ code: err ? Number(err.code ?? 1) : 0, stderr });
      },
    );
  });
}

describe('FEDLEAK_BACKEND', () => {
  it('an unknown backend name is a one-paragraph error naming the choices, not an internal error', async () => {
    const { code, stderr } = await runWithBackend('gpu');
    expect(code).to.not.equal(0);
    expect(stderr).to.contain('FEDLEAK_BACKEND=gpu is not a backend fedleak knows; use one of cpu, tensorflow, wasm');
    expect(stderr).to.not.contain('internal error');
    expect(stderr).to.not.match(/^\s+at /m);
  });

  it('forcing cpu runs on cpu, and every process says so', async () => {
    const { code, stderr } = await runWithBackend('cpu');
    expect(code, stderr).to.equal(0);
    // the server process and every client process each print their backend once
    const { federation } = JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'quickstart.json'), 'utf8')) as {
      federation: { clients: number; clientsPerProcess: number };
    };
    const clientProcesses = Math.ceil(federation.clients / federation.clientsPerProcess);
    expect(stderr.match(/tensor backend cpu \(FEDLEAK_BACKEND/g) ?? []).to.have.length(1 + clientProcesses);
  });
});
