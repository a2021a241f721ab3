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

const RUNS: Array<{ name: string; args: () => string[]; minImages: number }> = [
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
    });
  }
});
