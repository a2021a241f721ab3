/**
 * Output paths of `fedleak run` (real processes): a scenario name cannot lead the run folder out
 * of runs/, a bad --out fails before anything runs with a clear error, and a non-empty --out is
 * refused unless --overwrite (which empties it first).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { safeFolderName } from '../server/run/out-dir';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
const CHILD_ENV = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };

function tinyScenario(name: string): Record<string, unknown> {
  return {
    name,
    seed: 3,
    data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 60, testFraction: 0.2 },
    model: { name: 'mlp', hidden: [4] },
    federation: { clients: 2, clientsPerRound: 2, rounds: 1, algorithm: 'fedsgd', batchSize: 2, learningRate: 0.1 },
    attack: { name: 'none' },
  };
}

function run(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'run', ...args, '--quiet'], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: CHILD_ENV });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('fedleak run: output paths (real processes)', function () {
  this.timeout(120000);
  let dir: string;
  let scenarioFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-out-'));
    scenarioFile = path.join(dir, 'tiny.json');
    fs.writeFileSync(scenarioFile, JSON.stringify(tinyScenario('tiny')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('turns a scenario name into one folder name', () => {
    expect(safeFolderName('../../x')).to.equal('x');
    expect(safeFolderName('a/b\\c d\u0000e')).to.equal('a-b-c-d-e');
    expect(safeFolderName('..')).to.equal('run');
    expect(safeFolderName('d/../x y')).to.equal('d-.-x-y');
  });

  it('keeps a scenario named ../../x under runs/', async () => {
    const cwd = path.join(dir, 'a', 'b');
    fs.mkdirSync(cwd, { recursive: true });
    const file = path.join(dir, 'evil.json');
    fs.writeFileSync(file, JSON.stringify(tinyScenario('../../x')));
    const out = await run([file], cwd);
    expect(out.code, out.stderr).to.equal(0);
    const made = fs.readdirSync(path.join(cwd, 'runs'));
    expect(made).to.have.length(1);
    expect(made[0]).to.match(/^x-/);
    expect(fs.existsSync(path.join(cwd, 'runs', made[0]!, 'results.json'))).to.equal(true);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['a', 'evil.json', 'tiny.json']); // nothing escaped to dir/x-…
  });

  it('fails at once with a clear error when --out lies under a file or cannot be created', async () => {
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, 'a file');
    const underFile = await run([scenarioFile, '--out', path.join(blocker, 'out')], dir);
    expect(underFile.code).to.equal(1);
    expect(underFile.stderr)
      .to.match(/--out .*blocker.out: a part of .* is a file, not a folder/)
      .and.not.match(/internal error/);
    const isFile = await run([scenarioFile, '--out', blocker], dir);
    expect(isFile.stderr).to.match(/--out .*blocker is a file; give a folder/);
    if (fs.existsSync('/proc/self')) {
      const proc = await run([scenarioFile, '--out', '/proc/nope'], dir);
      expect(proc.code).to.equal(1);
      expect(proc.stderr)
        .to.match(/--out \/proc\/nope: /)
        .and.not.match(/internal error/);
    }
  });

  it('refuses a non-empty --out unless --overwrite, which empties it first', async () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'old-image.png'), 'old');
    const refused = await run([scenarioFile, '--out', out], dir);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/is not empty \(1 entry, e\.g\. old-image\.png\).*--overwrite/);
    expect(fs.readdirSync(out)).to.deep.equal(['old-image.png']);
    const again = await run([scenarioFile, '--out', out, '--overwrite'], dir);
    expect(again.code, again.stderr).to.equal(0);
    expect(fs.existsSync(path.join(out, 'old-image.png'))).to.equal(false);
    expect(fs.existsSync(path.join(out, 'results.json'))).to.equal(true);
  });
});
