/**
 * The draw page's script is bundled for the browser on first request. A module that pulls a Node-only
 * package into shared/ breaks the bundle (and the page answers 500): this catches it without a browser.
 */
import { expect } from 'chai';
import { browserClientBundle } from '../server/dashboard/browser-bundle';

describe('browser client bundle (esbuild)', function () {
  this.timeout(120000);
  it('bundles client/browser/main for the browser, Node built-ins stubbed', async () => {
    const text = await browserClientBundle();
    expect(text.length).to.be.above(100000);
    expect(text).to.not.match(/require\("(fs|stream|util)"\)/);
  });
});
