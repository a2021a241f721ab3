/**
 * report.html of real runs, opened in a real Chromium: no console error, no uncaught exception,
 * no failed request (the page is self-contained) and every image loaded. Screenshots go to
 * $FEDLEAK_SCREENSHOTS (default <tmp>/fedleak-browser-screenshots) for a person to look at.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { imageCensus, launchChromium, screenshotDir, watchPage } from './chromium';
import { fedleak, ROOT } from './run-cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-browser-report-'));

/** A reduced copy of a built-in sweep: two variants, few clients, few rounds. */
function reducedSweepFile(): string {
  const scenario = JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'defense-noise-sweep.json'), 'utf8')) as {
    sweep: unknown[];
  };
  scenario.sweep = scenario.sweep.slice(0, 2).concat(scenario.sweep.slice(4, 5));
  const file = path.join(tmp, 'noise-sweep-small.json');
  fs.writeFileSync(file, JSON.stringify(scenario));
  return file;
}

/**
 * model-inversion-mnist shrunk to seconds, as test/release-integration.test.ts does: 600 digits,
 * one round, four clients, two classes, few attack steps, one sweep variant.
 */
function reducedModelInversionFile(): string {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'model-inversion-mnist.json'), 'utf8')) as {
    data: Record<string, unknown>;
    federation: Record<string, unknown>;
    release: Record<string, unknown>;
    sweep: unknown[];
  };
  raw.data.limit = 600;
  Object.assign(raw.federation, { rounds: 1, clients: 4, clientsPerRound: 4, clientsPerProcess: 4 });
  raw.release.evaluator = { epochs: 1 };
  raw.release.benignQueries = 40;
  raw.release.attacks = [
    { name: 'mi-face', access: 'white-box', classes: [0, 1], iterations: 30 },
    { name: 'mi-face', access: 'black-box', classes: [0], iterations: 4 },
    { name: 'mi-face', access: 'black-box', classes: [0], iterations: 4, masking: { mode: 'label-only' } },
  ];
  raw.sweep = raw.sweep.slice(0, 1);
  const file = path.join(tmp, 'model-inversion-small.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  return file;
}

/** heading: an <h1>/<h2> the report must contain besides the verdict. */
const RUNS: Array<{ name: string; args: () => string[]; minImages: number; heading?: RegExp }> = [
  { name: 'quickstart', args: () => ['quickstart', '--set', 'federation.rounds=2'], minImages: 1 },
  {
    name: 'secagg-mnist',
    args: () => ['secagg-mnist', '--set', 'federation.clients=4', '--set', 'federation.clientsPerRound=4', '--set', 'attack.iterations=20'],
    minImages: 1,
  },
  {
    name: 'sweep',
    args: () => [
      reducedSweepFile(),
      ...['--set', 'federation.clients=2', '--set', 'federation.clientsPerRound=2', '--set', 'federation.clientsPerProcess=2'],
      ...['--set', 'federation.rounds=2', '--set', 'attack.iterations=30', '--set', 'attack.maxTargets=1'],
    ],
    minImages: 1,
  },
  // The released-model section (server/report/release-section.ts) with the reconstructed classes.
  { name: 'release-model', args: () => [reducedModelInversionFile()], minImages: 1, heading: /^Released model$/ },
];

describe('report.html in Chromium', function () {
  this.timeout(900000);
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const run of RUNS) {
    it(`${run.name}: renders with no console error and every image loaded`, async () => {
      const out = path.join(tmp, run.name);
      const result = await fedleak(['run', ...run.args(), '-q', '-o', out]);
      expect(result.code, result.stderr).to.equal(0);
      const report = path.join(out, 'report.html');
      expect(fs.existsSync(report), `${report} missing`).to.equal(true);

      const page = await browser.newPage();
      const problems = watchPage(page);
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
      const images = await imageCensus(page);
      await page.screenshot({ path: path.join(screenshotDir(), `report-${run.name}.png`), fullPage: true });
      const headings = (await page.evaluate(`Array.from(document.querySelectorAll('h1, h2')).map((h) => h.textContent)`)) as string[];
      await page.close();

      expect(problems.pageErrors, 'uncaught exceptions').to.deep.equal([]);
      expect(problems.consoleErrors, 'console errors').to.deep.equal([]);
      expect(problems.failedRequests, 'failed requests').to.deep.equal([]);
      expect(images.broken, 'images that did not load').to.deep.equal([]);
      expect(images.total).to.be.at.least(run.minImages);
      expect(headings.join(' | ')).to.match(/verdict/i);
      if (run.heading)
        expect(
          headings.map((h) => h.trim()).some((h) => run.heading?.test(h)),
          headings.join(' | '),
        ).to.equal(true);
    });
  }
});
