import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { scenarioSchema } from '../server/scenario/schema';
import { RESULTS_FORMAT, type AttackRecord, type RunResults } from '../server/report/results';
import { assembleResults, writeReport, writeResults } from '../server/report/results-writer';
import { writeReportFiles } from '../server/report/report-writer';
import { summaryMarkdown } from '../server/report/summary';
import { attachProgressPrinter } from '../server/report/progress';
import { createRunEvents } from '../server/report/events';
import { writeComparisonPng } from '../server/report/png';

function attack(overrides: Partial<AttackRecord> = {}): AttackRecord {
  return {
    round: 1,
    target: 'c0',
    attack: 'dlg',
    view: 'plain',
    batchSize: 1,
    mse: 1e-4,
    psnr: 40,
    ssim: 0.99,
    labelAccuracy: 1,
    iterations: 300,
    evaluations: 3600,
    finalObjective: 1e-7,
    seconds: 16.5,
    image: 'images/round-1-c0-plain.png',
    recoveredLabels: [7],
    trueLabels: [7],
    ...overrides,
  };
}

function sampleResults(attacks: AttackRecord[] = [attack()]): RunResults {
  const scenario = scenarioSchema.parse({ name: 'report-test', attack: { name: 'dlg' } });
  return assembleResults({
    startedAt: '2026-01-01T00:00:00.000Z',
    scenario,
    scenarioFile: 'scenarios/report-test.json',
    backend: { name: 'cpu', reason: 'test', fastKernels: true, tfjsVersion: '4.22.0' },
    rounds: [1, 2, 3].map((round) => ({
      round,
      participants: ['c0', 'c1'],
      dropped: round === 2 ? ['c1'] : [],
      testAccuracy: 0.2 * round,
      testLoss: 2 / round,
      seconds: 1.5,
    })),
    attacks,
  });
}

/** Pixels that are not pure white. */
function inkedPixels(png: PNG): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 250 || png.data[i + 1] < 250 || png.data[i + 2] < 250) n++;
  return n;
}

describe('report', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-report-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes results.json with the format tag and every required field', () => {
    const file = writeResults(dir, sampleResults());
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResults;
    expect(parsed.format).to.equal(RESULTS_FORMAT);
    expect(parsed.fedleakVersion).to.match(/^\d+\.\d+\.\d+/);
    expect(parsed.scenario.name).to.equal('report-test');
    expect(parsed.scenario.attack.iterations).to.equal(300); // fully resolved (defaults filled in)
    expect(parsed.backend.name).to.equal('cpu');
    expect(parsed.rounds).to.have.length(3);
    expect(parsed.rounds[1]).to.include.keys('round', 'participants', 'dropped', 'testAccuracy', 'testLoss', 'seconds');
    expect(parsed.rounds[1].dropped).to.deep.equal(['c1']);
    expect(parsed.attacks[0]).to.include.keys(
      'round',
      'target',
      'attack',
      'view',
      'batchSize',
      'mse',
      'psnr',
      'ssim',
      'labelAccuracy',
      'iterations',
      'evaluations',
      'seconds',
    );
    expect(Date.parse(parsed.finishedAt)).to.not.be.NaN;
    // Atomic write: no temporary file is left behind.
    expect(fs.readdirSync(dir)).to.deep.equal(['results.json']);
  });

  it('writes a failed attack with null metrics and its error', () => {
    const failed = attack({
      target: 'c1',
      mse: NaN,
      psnr: NaN,
      ssim: NaN,
      labelAccuracy: NaN,
      error: 'attack dlg failed: boom',
      image: undefined,
    });
    const file = writeResults(dir, sampleResults([attack(), failed]));
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { attacks: Array<Record<string, unknown>> };
    expect(parsed.attacks[1].mse).to.equal(null);
    expect(parsed.attacks[1].error).to.equal('attack dlg failed: boom');
  });

  it('refuses results missing a required field, naming it, and leaves no file', () => {
    const bad = { ...sampleResults(), rounds: undefined } as unknown as RunResults;
    expect(() => writeResults(dir, bad)).to.throw(/rounds must be an array/);
    const wrongFormat = { ...sampleResults(), format: 'fedleak-results/0' } as unknown as RunResults;
    expect(() => writeResults(dir, wrongFormat)).to.throw(/format must be "fedleak-results\/1"/);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });

  it('writeReport writes results.json, summary.md, report.html and every chart as SVG and PNG', async () => {
    // A real comparison picture for the record: 1 original above 1 reconstruction, 4×4 px images.
    fs.mkdirSync(path.join(dir, 'images'));
    writeComparisonPng(
      path.join(dir, 'images', 'round-1-c0-plain.png'),
      new Float32Array(16).fill(1),
      1,
      new Float32Array(16).fill(0.5),
      1,
      [4, 4, 1],
    );
    const traces = new Map([['round-1-c0-plain', Array.from({ length: 50 }, (_, i) => [i, 10 ** (-i / 10)] as [number, number])]]);
    const restarts = new Map([['round-1-c0-plain', [25]]]); // as an attack that reports its restarts would give them
    const files = (await writeReport(dir, sampleResults(), traces, { warn: () => undefined, restarts })).map((f) =>
      path.relative(dir, f).split(path.sep).join('/'),
    );
    expect(files.slice(0, 3)).to.deep.equal(['results.json', 'summary.md', 'report.html']);
    for (const chart of ['accuracy', 'loss', 'attack-objective']) {
      expect(files).to.include.members([`curves/${chart}.svg`, `curves/${chart}.png`]);
      const svg = fs.readFileSync(path.join(dir, 'curves', `${chart}.svg`), 'utf8');
      expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg.trimEnd()).to.match(/<\/svg>$/);
      const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
      const png = PNG.sync.read(fs.readFileSync(path.join(dir, 'curves', `${chart}.png`)));
      expect([png.width, png.height]).to.deep.equal([2 * Number(w), 2 * Number(h)]); // exported at 2× for print
      expect(inkedPixels(png)).to.be.greaterThan(2000);
    }
    expect(fs.readFileSync(path.join(dir, 'curves', 'accuracy.svg'), 'utf8')).to.include('report-test: test accuracy');
    expect(files).to.include('images/round-1-c0-plain-labelled.png');
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResults;
    expect(written.attacks[0].labelledImage).to.equal('images/round-1-c0-plain-labelled.png');
    expect(written.images).to.deep.equal([
      'images/round-1-c0-plain.png',
      'images/round-1-c0-plain-labelled.png',
      'curves/accuracy.png',
      'curves/loss.png',
      'curves/attack-objective.png',
    ]);
    // Re-rendering from the folder alone (fedleak report) redraws the objective from the kept traces.
    expect(fs.readFileSync(path.join(dir, 'curves', 'attack-objective.svg'), 'utf8')).to.include('mark-rule role-mark'); // the restart rule
    fs.rmSync(path.join(dir, 'curves', 'attack-objective.svg'));
    await writeReportFiles(dir, written);
    const redrawn = fs.readFileSync(path.join(dir, 'curves', 'attack-objective.svg'), 'utf8');
    expect(redrawn).to.include('report-test: attack objective').and.include('mark-rule role-mark');
    // No privacy chart without DP, no frontier without a sweep.
    expect(fs.existsSync(path.join(dir, 'curves', 'privacy.svg'))).to.equal(false);
    expect(fs.existsSync(path.join(dir, 'curves', 'frontier.svg'))).to.equal(false);
  });

  it('summarises rounds and attacks in a markdown table', () => {
    const md = summaryMarkdown(sampleResults([attack(), attack({ target: 'c1', psnr: 12.345, error: undefined })]));
    expect(md).to.include('# report-test');
    expect(md).to.match(/\|\s+3 \|\s+60\.0% \|/); // round 3, accuracy 0.6
    expect(md).to.include('| c1 ');
    expect(md).to.include('12.35');
    expect(md).to.match(/2 of 2 attacks scored; median PSNR 26\.17 dB/);
  });

  it('shows the worst and best pair of a batch next to the mean PSNR, so one failed image is visible', () => {
    const perImage = [100, 100, 7.25, 50.5].map((p, i) => ({ original: i, mse: 10 ** (-p / 10), psnr: p, ssim: 0.9 }));
    const md = summaryMarkdown(sampleResults([attack({ batchSize: 4, psnr: 64.44, perImage }), attack({ target: 'c1' })]));
    expect(md).to.include('64.44 (7.25–100.00)');
    const c1Row = md.split('\n').find((l) => l.includes('| c1 ') && l.includes('plain')) ?? '';
    expect(c1Row).to.include('40.00').and.not.include('–100');
  });

  it('summarises a sweep with the accuracy cost next to the attack figures', () => {
    const sweep = {
      ...sampleResults([]),
      rounds: [],
      sweep: [
        {
          variant: 'none',
          overrides: {},
          finalTestAccuracy: 0.9,
          accuracyCost: 0,
          attack: { mse: 0.01, psnr: 20, ssim: 0.8, labelAccuracy: 1, count: 2 },
        },
        {
          variant: 'noise-1e-2',
          overrides: { 'defenses.noise.variance': 0.01 },
          finalTestAccuracy: 0.85,
          accuracyCost: 0.05,
          attack: null,
        },
      ],
    };
    const md = summaryMarkdown(sweep);
    expect(md).to.include("each variant's rounds are in `<variant>/summary.md`");
    expect(md).to.match(/\| none\s+\|\s+90\.0% \|\s+0\.0 pp \|\s+20\.00 \|/);
    expect(md).to.match(/\| noise-1e-2 \|\s+85\.0% \|\s+5\.0 pp \|\s+– \|/);
  });

  it('prints round lines and at most one iteration line per interval per attack', () => {
    const events = createRunEvents();
    const lines: string[] = [];
    let clock = 0;
    const detach = attachProgressPrinter(events, { write: (l) => lines.push(l), intervalMs: 1000, now: () => clock });
    events.emit('round', sampleResults().rounds[1], 3);
    const id = { round: 1, target: 'c0', view: 'plain' as const, attack: 'dlg' };
    events.emit('attack-start', { ...id, iterations: 300 });
    for (let i = 1; i <= 30; i++) {
      clock += 100; // 30 iterations over 3 s → 3 lines at a 1 s interval
      events.emit('attack-progress', { ...id, iteration: i, objective: 1 / i });
    }
    events.emit('attack-done', { record: attack() });
    detach();
    events.emit('round', sampleResults().rounds[2], 3);
    expect(lines[0]).to.equal('round 2/3: test accuracy 40.0%, loss 1.0000, 1/2 updates, dropped c1 (1.5 s)');
    expect(lines[1]).to.equal('attack dlg on round 1 c0: started');
    const iterationLines = lines.filter((l) => l.includes('iteration '));
    expect(iterationLines).to.deep.equal([
      'attack dlg on round 1 c0: iteration 10/300, objective 1.000e-1',
      'attack dlg on round 1 c0: iteration 20/300, objective 5.000e-2',
      'attack dlg on round 1 c0: iteration 30/300, objective 3.333e-2',
    ]);
    expect(lines[lines.length - 1]).to.match(/^attack dlg on round 1 c0: PSNR 40\.00 dB, SSIM 0\.990/);
    expect(lines).to.have.length(6); // nothing after detach
  });
});
