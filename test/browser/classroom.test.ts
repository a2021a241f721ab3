/**
 * "Draw a digit, watch it leak", end to end in a real Chromium: `fedleak run classroom-draw
 * --dashboard 0` reserves one client slot; the draw page, driven by mouse events, draws a digit,
 * joins the federation as that client (tfjs in the page) and sends its update; the curious server's
 * reconstruction comes back to the page, scored by the observer against the drawing the browser
 * trained on (its evaluation channel).
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, screenshotDir, watchPage } from './chromium';
import { startLiveRun, type LiveRun } from './live-run';

/** A "7": a top bar and a long diagonal, as a person would drag the mouse. */
async function drawSeven(page: Page): Promise<void> {
  const box = await (await page.$('#pad'))?.boundingBox();
  if (!box) throw new Error('no drawing pad on the page');
  const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(0.25, 0.22));
  await page.mouse.down();
  await page.mouse.move(...at(0.75, 0.22), { steps: 12 });
  await page.mouse.move(...at(0.42, 0.82), { steps: 16 });
  await page.mouse.up();
}

describe('draw a digit, watch it leak (classroom-draw in Chromium)', function () {
  this.timeout(600000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-browser-draw-'));
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

  it('the browser joins as a client, and the server reconstructs the drawn digit (PSNR ≥ 25 dB)', async () => {
    const out = path.join(tmp, 'run');
    run = startLiveRun(['classroom-draw', '--dashboard', '0', '-q', '-o', out]);
    const drawUrl = await run.line(/draw a digit: (\S+)/);
    expect(drawUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/draw\?token=/);

    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.setViewport({ width: 1000, height: 700 });
    await page.goto(drawUrl, { waitUntil: 'load' });
    await drawSeven(page);
    await page.select('#label', '7');
    await page.click('#send');
    await page.waitForFunction('document.body.dataset.psnr !== undefined', { timeout: 170000 });
    const psnr = Number(await page.evaluate('document.body.dataset.psnr'));
    const clientId = (await page.evaluate('document.body.dataset.clientId')) as string;
    await page.waitForFunction("document.getElementById('leak').complete && document.getElementById('leak').naturalWidth > 0");
    await page.screenshot({ path: path.join(screenshotDir(), 'classroom-draw.png') });
    await page.close();

    expect(problems.pageErrors, 'uncaught exceptions').to.deep.equal([]);
    expect(problems.consoleErrors, 'console errors').to.deep.equal([]);
    expect(psnr, 'PSNR of the reconstruction against the drawing').to.be.at.least(25);

    // The run's own record says the same: the browser's client was attacked, scored on its drawing.
    await run.line(/(the run is over)/);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      attacks: Array<{ target: string; psnr: number; labelAccuracy: number }>;
    };
    const mine = results.attacks.find((a) => a.target === clientId);
    expect(mine, `no attack on the browser's client ${clientId}`).to.not.equal(undefined);
    expect(mine?.psnr).to.be.at.least(25);
  });
});
