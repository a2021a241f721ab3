/**
 * report.html, `fedleak report` and `fedleak compare` on real run folders: real `fedleak run`
 * processes (analytic attack on real MNIST, the cheapest attack), then the commands on their output.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResults } from '../server/report/results';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function fedleak(args: string[], cwd = ROOT): Promise<Outcome> {
  // FEDLEAK_QUIET_BACKEND unset: the test checks how many backend lines -q leaves.
  const env: NodeJS.ProcessEnv = { ...process.env, FEDLEAK_DEBUG: '' };
  delete env.FEDLEAK_QUIET_BACKEND;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 180000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function expectCleanFailure(out: Outcome, pattern: RegExp): void {
  expect(out.code, out.stderr).to.equal(1);
  expect(out.stderr).to.match(/^fedleak: /);
  expect(out.stderr).to.match(pattern);
  expect(out.stderr).to.not.match(/^ {4}at /m);
  expect(out.stderr).to.not.contain('internal error');
  expect(out.stderr.trim().split('\n')).to.have.length(1);
}

/** Every src/href of the page; none may leave the page (data: URIs only). */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]);
}

/** The page with its data URIs removed: what is left must name no URL at all. */
function withoutDataUris(html: string): string {
  return html.replace(/data:[a-z+/.-]+;base64,[A-Za-z0-9+/=]+/g, 'DATA');
}

const ANALYTIC = [
  '--set',
  'federation.rounds=2',
  '--set',
  'federation.clients=2',
  '--set',
  'federation.clientsPerRound=2',
  '--set',
  'data.limit=500',
];
const DP = ['--set', 'defenses.dp={"clippingNorm":1,"noiseMultiplier":1,"delta":1e-5}'];

describe('report.html and the report commands on real runs', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-report-cli-'));
  const plain = path.join(tmp, 'plain');
  const dp = path.join(tmp, 'dp');
  let dpRun: Outcome;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  before(async () => {
    const [a, b] = await Promise.all([
      fedleak(['run', 'analytic-mlp', ...ANALYTIC, '-o', plain, '-q']),
      fedleak(['run', 'analytic-mlp', ...ANALYTIC, ...DP, '-o', dp, '-q']),
    ]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    dpRun = b;
  });

  it('-q: one backend line for the run (not one per client process), one line per round, ε at the end', () => {
    expect(dpRun.stderr.match(/tensor backend/g) ?? []).to.have.length(1);
    expect(dpRun.stderr.match(/^round \d\/2: /gm) ?? []).to.have.length(2);
    expect(dpRun.stderr).to.not.include('iteration ');
    expect(dpRun.stdout).to.match(/privacy: \(ε = \d+\.\d{3}, δ = 0\.00001\)-DP after 2 rounds \(noise multiplier 1, sample rate 1\)/);
    expect(dpRun.stdout).to.include(`report: ${path.join(dp, 'report.html')}`);
  });

  it('report.html: the verdict first, every picture inlined, no external reference', () => {
    const html = fs.readFileSync(path.join(dp, 'report.html'), 'utf8');
    const results = JSON.parse(fs.readFileSync(path.join(dp, 'results.json'), 'utf8')) as RunResults;
    expect(html).to.include('Curious server').and.include('2 of 2 attacked examples reconstructed recognisably (SSIM ≥ 0.6)');
    expect(html.indexOf('id="verdict"')).to.be.below(html.indexOf('id="reconstructions"'));
    const refs = references(html);
    expect(refs.length).to.equal(results.attacks.length + 3); // 2 labelled grids + accuracy, loss, privacy charts
    for (const ref of refs) expect(ref).to.match(/^data:image\/(png|svg\+xml);base64,/);
    expect(withoutDataUris(html)).to.not.match(/https?:|\/\/|file:/);
    // Each attack's labelled grid is the picture shown for it, byte for byte.
    for (const a of results.attacks) {
      expect(a.labelledImage).to.be.a('string');
      const png = fs.readFileSync(path.join(dp, a.labelledImage as string)).toString('base64');
      expect(html).to.include(`data:image/png;base64,${png}`);
    }
    expect(html).to.include('id="privacy"').and.include('Privacy spent');
    for (const chart of ['accuracy', 'loss', 'privacy']) {
      expect(fs.existsSync(path.join(dp, 'curves', `${chart}.svg`)), chart).to.equal(true);
      expect(fs.existsSync(path.join(dp, 'curves', `${chart}.png`)), chart).to.equal(true);
    }
  });

  it('fedleak report DIR re-renders report.html, charts and labelled grids from results.json', async () => {
    const copy = path.join(tmp, 'rerender');
    fs.cpSync(plain, copy, { recursive: true });
    const before = fs.readFileSync(path.join(copy, 'report.html'), 'utf8');
    fs.rmSync(path.join(copy, 'report.html'));
    fs.rmSync(path.join(copy, 'curves'), { recursive: true });
    for (const f of fs.readdirSync(path.join(copy, 'images'))) if (f.endsWith('-labelled.png')) fs.rmSync(path.join(copy, 'images', f));
    const out = await fedleak(['report', copy]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout.trim()).to.equal(`report: ${path.join(copy, 'report.html')}`);
    const after = fs.readFileSync(path.join(copy, 'report.html'), 'utf8');
    // The same inputs give the same page, byte for byte.
    expect(after).to.equal(before);
    expect(fs.existsSync(path.join(copy, 'curves', 'accuracy.png'))).to.equal(true);
  });

  it('fedleak report: a bad folder is one clear line naming it', async () => {
    expectCleanFailure(await fedleak(['report', path.join(tmp, 'nope')]), /nope: no such folder/);
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expectCleanFailure(await fedleak(['report', empty]), /empty: no results\.json in this folder/);
    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'results.json'), '{"format": "fedleak-results/1",');
    expectCleanFailure(await fedleak(['report', broken]), /broken\/results\.json: not valid JSON/);
    fs.writeFileSync(path.join(broken, 'results.json'), '{"format": "fedleak-results/9"}');
    expectCleanFailure(await fedleak(['report', broken]), /format must be "fedleak-results\/1", got "fedleak-results\/9"/);
  });

  it('fedleak compare DIR1 DIR2 writes one self-contained page with both runs and what differs', async () => {
    const file = path.join(tmp, 'cmp.html');
    const out = await fedleak(['compare', plain, dp, '-o', file]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout.trim()).to.equal(`comparison: ${file}`);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).to.include('<h1>plain vs dp</h1>');
    expect(html).to.match(/<td>defenses\.dp\.noiseMultiplier<\/td><td>\(unset\)<\/td><td>1<\/td>/);
    expect(html).to.match(/<td>privacy<\/td><td>–<\/td><td>ε = \d+\.\d{3}, δ = 0\.00001<\/td>/);
    for (const ref of references(html)) expect(ref).to.match(/^data:image\/(png|svg\+xml);base64,/);
    expect(withoutDataUris(html)).to.not.match(/https?:|file:/);
    expectCleanFailure(await fedleak(['compare', plain, path.join(tmp, 'nope')]), /nope: no such folder/);
  });

  it('a sweep gets its report too: frontier, defence table, per-variant verdict', async () => {
    const scenario = path.join(tmp, 'sweep.json');
    fs.writeFileSync(
      scenario,
      JSON.stringify({
        name: 'report-sweep',
        seed: 1,
        data: { dataset: 'mnist', partition: 'iid', limit: 500 },
        model: { name: 'mlp', hidden: [32], activation: 'relu', init: { kind: 'fan-in' } },
        federation: { clients: 2, clientsPerRound: 2, rounds: 1, algorithm: 'fedsgd', batchSize: 1, learningRate: 0.1 },
        attack: { name: 'analytic', iterations: 1, rounds: [1] },
        sweep: [
          { label: 'none', set: {} },
          { label: 'noise', set: { 'defenses.noise': { variance: 0.01 } } },
        ],
      }),
    );
    const out = path.join(tmp, 'sweep');
    const run = await fedleak(['run', scenario, '-o', out, '-q']);
    expect(run.code, run.stderr).to.equal(0);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).to.include('<figcaption>Privacy–utility frontier').and.include('Defence table');
    expect(html).to.include('Variant &quot;none&quot;: 2 of 2 attacked updates');
    expect(html).to.include('Variant &quot;noise&quot;: 0 of 2 attacked updates');
    for (const chart of ['frontier', 'accuracy']) expect(fs.existsSync(path.join(out, 'curves', `${chart}.png`)), chart).to.equal(true);
    for (const ref of references(html)) expect(ref).to.match(/^data:image\/(png|svg\+xml);base64,/);
  });
});
