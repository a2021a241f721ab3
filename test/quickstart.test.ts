import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResults } from '../server/report/results';

const ROOT = path.resolve(__dirname, '..', '..');

// The README's main command, end to end: real client processes, real MNIST, DLG in worker threads.
describe('fedleak run quickstart (the README main command)', () => {
  it('learns (≥ 80 % test accuracy), leaks its round-1 updates to DLG, and writes a valid results.json with images', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-qs-'));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'bin', 'fedleak.js'), 'run', 'quickstart', '-o', out], { cwd: ROOT }, (err, so, se) =>
        resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout: so, stderr: se }),
      );
    });
    expect(code, stderr).to.equal(0);
    expect(stderr).to.match(/tensor backend (cpu|tensorflow|wasm)/);
    expect(stdout).to.contain('results.json');
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.format).to.equal('fedleak-results/1');
    expect(results.scenario.name).to.equal('quickstart');
    expect(results.scenario.data.dataset).to.equal('mnist');
    expect(['cpu', 'tensorflow', 'wasm']).to.include(results.backend.name);
    expect(results.rounds).to.have.length(results.scenario.federation.rounds);
    for (const r of results.rounds) expect(r.participants).to.have.length(results.scenario.federation.clientsPerRound);
    // A quickstart whose federation does not learn would make a newcomer doubt the whole tool.
    const last = results.rounds[results.rounds.length - 1];
    expect(last.testAccuracy, 'final test accuracy').to.be.at.least(0.8);
    expect(results.attacks).to.have.length(results.scenario.attack.maxTargets);
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    expect(median(results.attacks.map((a) => a.psnr)), 'median round-1 PSNR').to.be.at.least(25);
    expect(median(results.attacks.map((a) => a.ssim)), 'median round-1 SSIM').to.be.at.least(0.8);
    // Random noise scores ~5 dB against an MNIST digit; DLG recovers most digits far above that.
    const leaked = results.attacks.filter((a) => a.psnr > 25 && a.labelAccuracy === 1);
    expect(leaked.length, JSON.stringify(results.attacks.map((a) => a.psnr))).to.be.at.least(3);
    for (const a of results.attacks) {
      expect(a.view).to.equal('plain');
      expect(a.evaluations).to.be.greaterThan(a.iterations);
      expect(fs.existsSync(path.join(out, a.image as string)), a.image).to.equal(true);
    }
    fs.rmSync(out, { recursive: true, force: true });
  });
});
