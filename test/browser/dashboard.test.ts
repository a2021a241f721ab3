/**
 * The live dashboard during a real `fedleak run quickstart --dashboard 0`, in a real Chromium opened
 * on the printed URL (access token in it) before the attacks finish: the page must show the
 * attack's live guesses, then every finished attack sorted by client, the verdict and the rounds,
 * with no console error and no empty section on screen.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { imageCensus, launchChromium, screenshotDir, watchPage } from './chromium';
import { startLiveRun, type LiveRun } from './live-run';

describe('live dashboard in Chromium during a real run', function () {
  this.timeout(600000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-browser-dashboard-'));
  let browser: Browser;
  let run: LiveRun | null = null;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await run?.stop();
    await browser?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows live guesses, then sorted results, the verdict and the rounds', async () => {
    run = startLiveRun(['quickstart', '--set', 'federation.rounds=2', '--dashboard', '0', '-q', '-o', path.join(tmp, 'run')]);
    const url = await run.line(/dashboard: (http\S+)/);
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.setViewport({ width: 1100, height: 900 });
    await page.goto(url, { waitUntil: 'load' });

    // Live: a guess of a running attack arrives over socket.io before that attack is done.
    await page.waitForFunction("document.querySelector('#images img.guess') !== null", { timeout: 170000 });
    await page.screenshot({ path: path.join(screenshotDir(), 'dashboard-live.png'), fullPage: true });
    await page.waitForFunction(
      "document.querySelectorAll('#images img:not(.guess)').length === 4 && /run finished/.test(document.getElementById('status').textContent)",
      { timeout: 170000 },
    );
    const view = (await page.evaluate(`({
      targets: Array.from(document.querySelectorAll('#attacks tr')).map((tr) => tr.children[1].textContent),
      rounds: document.getElementById('rounds').textContent,
      verdict: document.getElementById('verdict').textContent,
      xTicks: Array.from(document.querySelectorAll('#chart text')).map((t) => t.textContent),
      emptyVisible: Array.from(document.querySelectorAll('section')).filter((s) => !s.hidden && s.textContent.trim().length < 20).map((s) => s.id),
      logHidden: document.getElementById('log-section').hidden,
    })`)) as { targets: string[]; rounds: string; verdict: string; xTicks: string[]; emptyVisible: string[]; logHidden: boolean };
    const images = await imageCensus(page);
    await page.screenshot({ path: path.join(screenshotDir(), 'dashboard-done.png'), fullPage: true });
    await page.close();

    expect(problems.pageErrors, 'uncaught exceptions').to.deep.equal([]);
    expect(problems.consoleErrors, 'console errors').to.deep.equal([]);
    expect(images.broken).to.deep.equal([]);
    // Four attacked clients (the quickstart's maxTargets), in client order whatever order they finished in.
    expect(view.targets).to.have.length(4);
    expect(view.targets).to.deep.equal([...view.targets].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    expect(view.rounds).to.match(/^round 2 of 2: test accuracy/);
    expect(view.verdict).to.match(/LEAKS|PARTLY|RESISTED/);
    expect(view.xTicks).to.include.members(['1', '2', 'round', '0%', '100%']);
    expect(view.emptyVisible, 'sections on screen with nothing in them').to.deep.equal([]);
  });
});
