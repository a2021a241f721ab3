import { expect } from 'chai';
import { maskingLabel, miFaceSchema, parseMasking, releaseSchema } from '../server/release/schema';

describe('release: scenario section', () => {
  it('defaults MI-FACE to the paper parameters (α 5000, β 100, λ 0.1) and γ read as confidence 0.99', () => {
    const a = miFaceSchema.parse({ name: 'mi-face' });
    expect([a.iterations, a.patience, a.stepSize, a.costThreshold, a.access]).to.deep.equal([5000, 100, 0.1, 0.01, 'white-box']);
  });

  it('serves on loopback by default and rejects unknown fields', () => {
    expect(releaseSchema.parse({}).api.host).to.equal('127.0.0.1');
    expect(() => releaseSchema.parse({ api: { maskin: 'full' } })).to.throw(/maskin/);
  });

  it('parses the command-line maskings and labels them back the same way', () => {
    for (const text of ['full', 'label-only', 'top-1', 'round-2']) expect(maskingLabel(parseMasking(text))).to.equal(text);
    expect(maskingLabel(parseMasking('round:3'))).to.equal('round-3');
    expect(() => parseMasking('round')).to.throw(/expected full, label-only, top-K/);
  });
});
