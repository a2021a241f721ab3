import { expect } from 'chai';
import { loadMnist } from '../shared/data/mnist';
import { countRecognisable, relativeDataLeakage, runVerdict, targetVerdict } from '../server/observer/verdict';

const SHAPE: [number, number, number] = [28, 28, 1];

describe('verdicts', () => {
  it('counts an example recognisable at matched SSIM ≥ the threshold, never NaN', () => {
    expect(countRecognisable([0.59, 0.6, 0.95, Number.NaN])).to.equal(2);
    expect(countRecognisable([0.59, 0.6, 0.95], 0.9)).to.equal(1);
    expect(() => countRecognisable([0.5], 2)).to.throw(/threshold/);
  });

  it('caps a target at its example count', () => {
    const v = targetVerdict({ target: 'aggregate', examples: 2, matchedSsim: [0.9, 0.9, 0.9] });
    expect(v).to.deep.equal({ target: 'aggregate', examples: 2, recognisable: 2, leaked: true });
  });

  it('says in one sentence what leaked, under which threat model and defences', () => {
    const v = runVerdict({
      outcomes: [
        { target: 'c1', examples: 1, matchedSsim: [0.99] },
        { target: 'c2', examples: 1, matchedSsim: [0.2] },
        { target: 'aggregate', examples: 16, matchedSsim: [0.9, 0.8, 0.7, 0.1] },
      ],
      threatModel: 'C (honest-but-curious server)',
      defences: ['secure aggregation'],
    });
    expect(v.leakedTargets).to.equal(2);
    expect(v.leakedExamples).to.equal(4);
    expect(v.totalExamples).to.equal(18);
    expect(v.sentence).to.equal(
      '2 of 3 targets leaked 4 of 18 examples recognisably (matched SSIM ≥ 0.6) under threat model C (honest-but-curious server) with defences secure aggregation.',
    );
    expect(runVerdict({ outcomes: [], threatModel: 'A', defences: [] }).sentence).to.equal(
      'No update was attacked under threat model A with no defences.',
    );
  });

  it('RDLV: 0 for a reconstruction no better than its starting prior, positive for a real digit, best reconstruction wins', () => {
    const ds = loadMnist();
    const x = ds.images.slice(0, 784);
    const other = ds.images.slice(784 * 7, 784 * 8);
    const prior = new Float32Array(784).fill(0.5);
    prior[0] = 0.4; // a constant image has zero variance; keep SSIM(prior, x) well defined and small
    const [same] = relativeDataLeakage(prior, x, prior, SHAPE);
    expect(same).to.be.closeTo(0, 1e-12);
    const both = new Float32Array(784 * 2);
    both.set(other, 0);
    both.set(x, 784);
    const [leak] = relativeDataLeakage(both, x, prior, SHAPE);
    const [worse] = relativeDataLeakage(other, x, prior, SHAPE);
    expect(leak).to.be.greaterThan(1); // NVFlare's default refusal threshold
    expect(leak).to.be.greaterThan(worse);
    expect(() => relativeDataLeakage(x, x, new Float32Array(10), SHAPE)).to.throw(/prior has 10 values/);
  });
});
