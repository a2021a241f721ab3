/**
 * Debian's chromium driven by puppeteer-core (no browser download): launch it, open a page and
 * collect what a person would notice — console errors, uncaught exceptions, failed requests and
 * images that never loaded.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser binary: $CHROMIUM_PATH, else the first Debian location that exists. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`no chromium found (tried ${CANDIDATES.join(', ')}); install it with: apt-get install -y chromium`);
  return found;
}

export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** Everything that went wrong on a page since it was watched. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
}

export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => problems.pageErrors.push(err instanceof Error ? err.message : String(err)));
  page.on('requestfailed', (req) => problems.failedRequests.push(`${req.url().slice(0, 120)}: ${req.failure()?.errorText ?? '?'}`));
  return problems;
}

export interface ImageCensus {
  total: number;
  /** src (shortened) of every <img> that did not load (naturalWidth 0). */
  broken: string[];
}

/** Waits until every <img> has finished loading or failing, then counts the broken ones. */
export async function imageCensus(page: Page): Promise<ImageCensus> {
  // Strings, not functions: the project compiles without the DOM library.
  await page.waitForFunction('Array.from(document.images).every((img) => img.complete)', { timeout: 30000 });
  return page.evaluate(`({
    total: document.images.length,
    broken: Array.from(document.images).filter((i) => i.naturalWidth === 0).map((i) => i.src.slice(0, 80)),
  })`) as Promise<ImageCensus>;
}

/** A folder for screenshots that outlives the test run (so a person can look at them). */
export function screenshotDir(): string {
  const dir = process.env.FEDLEAK_SCREENSHOTS ?? path.join(os.tmpdir(), 'fedleak-browser-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
