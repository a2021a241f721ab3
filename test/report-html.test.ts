/** The report's parts on their own: labelled grids, verdict, HTML escaping, asset reading, restart marks. */
import type { ReleaseAttackRecord, ReleaseResults } from '../server/release/schema';
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { scenarioSchema } from '../server/scenario/schema';
import type { AttackRecord, RunResults } from '../server/report/results';
import { assembleResults } from '../server/report/results-writer';
import { comparisonPng } from '../server/report/png';
import { comparisonPairs, labelledGridSvg } from '../server/report/labelled-grid';
import { deriveVerdict } from '../server/report/verdict';
import { renderReportHtml } from '../server/report/report-html';
import { folderAssets } from '../server/report/assets';
import { restartStarts } from '../server/report/traces';
import { objectiveSpec } from '../server/report/charts';
import { chartSvg } from '../server/report/chart-render';
import { attachProgressPrinter } from '../server/report/progress';
import { createRunEvents } from '../server/report/events';

function record(overrides: Partial<AttackRecord> = {}): AttackRecord {
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
    seconds: 1,
    recoveredLabels: [7],
    trueLabels: [7],
    ...overrides,
  };
}

function results(attacks: AttackRecord[], name = 'html-test'): RunResults {
  return assembleResults({
    startedAt: '2026-01-01T00:00:00.000Z',
    scenario: scenarioSchema.parse({ name, attack: { name: 'dlg' } }),
    scenarioFile: 'x.json',
    backend: { name: 'cpu', reason: 'test', fastKernels: true, tfjsVersion: '4.22.0' },
    rounds: [{ round: 1, participants: ['c0'], dropped: [], testAccuracy: 0.5, testLoss: 1, seconds: 1 }],
    attacks,
  });
}

/** Red channel of the top-left pixel. */
function firstRed(png: PNG | null): number {
  if (!png) throw new Error('no picture');
  return png.data[0];
}

describe('report parts', () => {
  it('labelled grid: each reconstruction beside its own original, worst SSIM first, with its labels', async () => {
    // Three 4×4 originals of values 0.2/0.4/0.6; reconstruction i is matched to original [2, 0, 1][i].
    const shape: [number, number, number] = [4, 4, 1];
    const originals = Float32Array.from({ length: 48 }, (_, k) => [0.2, 0.4, 0.6][Math.floor(k / 16)]);
    const reconstructions = Float32Array.from({ length: 48 }, (_, k) => [0.65, 0.25, 0.45][Math.floor(k / 16)]);
    const png = PNG.sync.read(PNG.sync.write(comparisonPng(originals, 3, reconstructions, 3, shape, [2, 0, 1])));
    const rec = record({
      batchSize: 3,
      trueLabels: [1, 2, 3],
      recoveredLabels: [3, 1, 5],
      perImage: [
        { original: 2, mse: 0.01, psnr: 20, ssim: 0.9 },
        { original: 0, mse: 0.1, psnr: 10, ssim: 0.1 },
        { original: 1, mse: 0.05, psnr: 13, ssim: 0.5 },
      ],
    });
    const pairs = comparisonPairs(rec, png);
    expect(pairs.map((p) => p.ssim)).to.deep.equal([0.1, 0.5, 0.9]);
    expect(pairs.map((p) => firstRed(p.original))).to.deep.equal([51, 102, 153]); // originals 0.2, 0.4, 0.6
    expect(pairs.map((p) => firstRed(p.reconstruction))).to.deep.equal([64, 115, 166]); // their reconstructions
    expect(pairs.map((p) => `${p.trueLabel}→${p.recoveredLabel}`)).to.deep.equal(['1→1', '2→5', '3→3']);
    expect(pairs[0].original?.width).to.be.at.least(96); // small images are enlarged for reading

    const svg = labelledGridSvg(pairs, 'round 1 · c0 <&>');
    expect(svg).to.include('SSIM 0.100').and.include('PSNR 10.0 dB').and.include('label 2 → 5').and.include('round 1 · c0 &lt;&amp;&gt;');
    expect(svg.indexOf('SSIM 0.100')).to.be.below(svg.indexOf('SSIM 0.900')); // worst first
    const named = labelledGridSvg(pairs, 't', ['zero', 'one', 'bird', 'three', 'four', 'a-very-long-class-name']);
    expect(named).to.include('label bird → a-very-long…'); // class names (image folders) in place of indices
    const raster = PNG.sync.read(await sharp(Buffer.from(svg)).png().toBuffer());
    expect(raster.width).to.equal(Number(/width="(\d+)"/.exec(svg)?.[1]));
  });

  it('labelled grid refuses a picture whose size does not fit the record', () => {
    const png = new PNG({ width: 37, height: 41 });
    expect(() => comparisonPairs(record({ image: 'images/x.png' }), png)).to.throw(
      /images\/x\.png: 37×41 px is not a comparison of 1 originals/,
    );
  });

  it('verdict: counts recognisable examples per image (SSIM ≥ 0.6), not by the batch mean', () => {
    const perImage = [0.95, 0.7, 0.3, 0.1].map((ssim, i) => ({ original: i, mse: 0, psnr: 20, ssim }));
    const verdict = deriveVerdict(
      results([record({ batchSize: 4, trueLabels: [1, 2, 3, 4], ssim: 0.51, perImage }), record({ target: 'c1', ssim: 0.2 })]),
    );
    expect(verdict.threats.map((t) => t.threat)).to.deep.equal(['curious-server']);
    expect(verdict.threats[0].level).to.equal('partly');
    expect(verdict.threats[0].headline).to.equal(
      '1 of 2 attacked updates gave away at least one recognisable example; 2 of 5 attacked examples reconstructed recognisably (SSIM ≥ 0.6).',
    );
    const failed = deriveVerdict(results([record({ error: 'boom', ssim: NaN })]));
    expect(failed.threats[0].level).to.equal('not-assessed');
    expect(failed.threats[0].details.join(' ')).to.include('1 attack failed');
    const resisted = deriveVerdict(results([record({ ssim: 0.1 })]));
    expect(resisted.threats[0].level).to.equal('resisted');
  });

  function releaseSection(classAccuracy: number): ReleaseResults {
    const attack: ReleaseAttackRecord = {
      attack: 'mi-face',
      access: 'white-box',
      masking: 'full',
      classAccuracy,
      perClass: [],
      queries: 0,
      requests: 0,
      rateLimited: 0,
      flagged: false,
      flaggedAfterQueries: null,
      seconds: 1,
    };
    return {
      model: { name: 'mlp', testAccuracy: 0.9, params: 7850 },
      evaluator: { testAccuracy: 0.93, trainedOn: 2000 },
      attacks: [attack],
    };
  }

  it('verdict: malicious-server and released-model sections appear only when the results hold them', () => {
    const withRelease = { ...results([record({ attack: 'imprint' })]), release: releaseSection(0.9) };
    const verdict = deriveVerdict(withRelease);
    expect(verdict.threats.map((t) => t.threat)).to.deep.equal(['curious-server', 'malicious-server', 'released-model']);
    expect(verdict.threats[0].level).to.equal('not-assessed');
    expect(verdict.threats[2].headline).to.include('90 %');
  });

  it('report.html escapes everything that comes from results and takes the verdict it is given', () => {
    const evil = results(
      [record({ target: '<img src=x onerror=alert(1)>', error: '<script>alert(2)</script>', image: undefined })],
      '<script>alert(3)</script>',
    );
    const html = renderReportHtml(
      evil,
      {
        threats: [{ threat: 'curious-server', title: 'Given <verdict>', level: 'leaks', headline: 'from the caller', details: [] }],
        basis: 'test',
      },
      {
        charts: new Map(),
        image: () => null,
      },
    );
    expect(html).to.not.include('<script>').and.not.include('<img src=x');
    expect(html).to.include('&lt;script&gt;alert(3)&lt;/script&gt;').and.include('Given &lt;verdict&gt;').and.include('from the caller');
    expect(html.indexOf('id="verdict"')).to.be.below(html.indexOf('id="reconstructions"'));
    expect(html).to.include("default-src 'none'"); // the page may load nothing from anywhere
  });

  it('renders partial results (mid-run: no round finished, no attack scored yet)', () => {
    const partial = { ...results([]), rounds: [] };
    const html = renderReportHtml(partial, deriveVerdict(partial), { charts: new Map(), image: () => null });
    expect(html).to.include('No rounds completed.').and.include('No attack results').and.include('NOT ASSESSED');
  });

  it('reads only pictures inside the run folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-assets-'));
    try {
      fs.mkdirSync(path.join(dir, 'images'));
      fs.writeFileSync(path.join(dir, 'images', 'a.png'), PNG.sync.write(new PNG({ width: 1, height: 1 })));
      fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
      fs.writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.png`), 'x');
      const assets = folderAssets(dir, new Map());
      expect(assets.image('images/a.png')).to.match(/^data:image\/png;base64,/);
      expect(assets.image('secret.txt')).to.equal(null);
      expect(assets.image(`../${path.basename(dir)}-outside.png`)).to.equal(null);
      expect(assets.image(path.join(dir, 'images', 'a.png'))).to.not.equal(null); // absolute but inside
      expect(assets.image('/etc/passwd')).to.equal(null);
      fs.rmSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.png`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks restart boundaries only where the record proves them', async () => {
    const attack = scenarioSchema.parse({ name: 'r', attack: { name: 'dlg', iterations: 100, restarts: 3 } }).attack;
    expect(restartStarts(record({ iterations: 300 }), attack)).to.deep.equal([100, 200]);
    expect(restartStarts(record({ iterations: 257 }), attack)).to.deep.equal([]); // an early stop: lengths unknown
    expect(restartStarts(record({ attack: 'inverting-gradients', iterations: 360 }), attack)).to.deep.equal([120, 240]);
    const single = scenarioSchema.parse({ name: 'r', attack: { name: 'dlg', iterations: 100 } }).attack;
    expect(restartStarts(record({ iterations: 100 }), single)).to.deep.equal([]);
    const points = Array.from({ length: 300 }, (_, i) => [i + 1, 1 / ((i % 100) + 1)] as const);
    const svg = await chartSvg(objectiveSpec([{ name: 'round 1 c0', points, restartStarts: [100, 200] }], 't'));
    expect(svg).to.include('restart boundaries');
    const rules = /class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    expect(rules.match(/<line /g) ?? []).to.have.length(2); // one dashed rule per restart boundary
    const plain = await chartSvg(objectiveSpec([{ name: 'round 1 c0', points }], 't'));
    expect(plain).to.not.include('mark-rule role-mark');
  });

  it('"events" progress style prints one line per round and per attack result, nothing per iteration', () => {
    const events = createRunEvents();
    const lines: string[] = [];
    const detach = attachProgressPrinter(events, { write: (l) => lines.push(l), style: 'events' });
    const id = { round: 1, target: 'c0', view: 'plain' as const, attack: 'dlg' };
    events.emit(
      'round',
      {
        round: 1,
        participants: ['c0'],
        dropped: [],
        testAccuracy: 0.5,
        testLoss: 1,
        seconds: 1,
        privacy: { epsilon: 1.5, delta: 1e-5, noiseMultiplier: 1, sampleRate: 1, steps: 1 },
      },
      2,
    );
    events.emit('attack-start', { ...id, iterations: 10 });
    events.emit('attack-progress', { ...id, iteration: 5, objective: 0.1 });
    events.emit('attack-done', { record: record() });
    detach();
    expect(lines).to.have.length(2);
    expect(lines[0]).to.equal('round 1/2: test accuracy 50.0%, loss 1.0000, 1/1 updates, ε 1.500 (1.0 s)');
    expect(lines[1]).to.match(/^attack dlg on round 1 c0: PSNR 40\.00 dB/);
  });
});
