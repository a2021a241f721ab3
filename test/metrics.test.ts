import { expect } from 'chai';
import { PSNR_CAP_DB, labelAccuracy, minCostAssignment, mse, psnr, psnrFromMse, scoreReconstruction, ssim } from '../server/metrics';
import { loadMnist } from '../shared/data/mnist';
import { Rng } from '../shared/random';
import type { ImageShape } from '../shared/models/types';

/** Deterministic test pictures (the same formulas generated the PyTorch reference values). */
function picture(h: number, w: number, c: number, f: (x: number, y: number, ch: number) => number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = f(x, y, ch);
  return out;
}

describe('metrics', () => {
  describe('mse and psnr', () => {
    it('computes known values', () => {
      expect(mse([0, 0, 1, 1], [0, 1, 1, 0])).to.equal(0.5);
      expect(psnrFromMse(0.01)).to.be.closeTo(20, 1e-12);
      expect(psnr([0.5, 0.5], [0.6, 0.4])).to.be.closeTo(20, 1e-6);
    });

    it('caps the PSNR of identical images at 100 dB instead of infinity', () => {
      const a = new Float32Array([0.1, 0.2, 0.3]);
      expect(PSNR_CAP_DB).to.equal(100);
      expect(psnr(a, a)).to.equal(100);
      expect(psnrFromMse(1e-14)).to.equal(100);
      expect(psnrFromMse(1e-9)).to.be.closeTo(90, 1e-9);
    });

    it('rejects images of different sizes', () => {
      expect(() => mse([0, 1], [0])).to.throw(/differ in size/);
    });
  });

  describe('ssim', () => {
    it('is 1 for identical images', () => {
      const d = loadMnist();
      const digit = d.images.subarray(0, 784);
      expect(ssim(digit, digit, [28, 28, 1])).to.be.closeTo(1, 1e-12);
    });

    it('matches a PyTorch reference on 28×28 grey and 16×20 RGB images', () => {
      // Reference: valid 2-D convolution with the 11×11 Gaussian window, float64 (torch 1.13).
      const a = picture(28, 28, 1, (x, y) => (Math.sin(0.3 * x + 0.2 * y) + 1) / 2);
      const b = picture(28, 28, 1, (x, y) =>
        Math.min(1, Math.max(0, (Math.sin(0.3 * x + 0.2 * y) + 1) / 2 + 0.3 * Math.cos(0.5 * x - 0.7 * y))),
      );
      expect(ssim(a, b, [28, 28, 1])).to.be.closeTo(0.6067090122843954, 1e-6);
      const ra = picture(16, 20, 3, (x, y, c) => (Math.sin(0.3 * x + 0.2 * y + c) + 1) / 2);
      const rb = picture(16, 20, 3, (x, y, c) => (Math.sin(0.31 * x + 0.2 * y + 0.5 * c) + 1) / 2);
      expect(ssim(ra, rb, [16, 20, 3])).to.be.closeTo(0.698690239430503, 1e-6);
    });

    it('gives the closed form for two flat images', () => {
      // Constant images x and y: SSIM = (2xy + C1) / (x² + y² + C1), C1 = 1e-4.
      const black = new Float32Array(28 * 28);
      const white = new Float32Array(28 * 28).fill(1);
      expect(ssim(black, white, [28, 28, 1])).to.be.closeTo(1e-4 / (1 + 1e-4), 1e-12);
    });

    it('is near 0 for noise against a digit and works on images smaller than the window', () => {
      const d = loadMnist();
      const noise = new Rng(3).fillUniform(new Float32Array(784), 0, 1);
      expect(Math.abs(ssim(d.images.subarray(0, 784), noise, [28, 28, 1]))).to.be.below(0.1);
      const tiny = new Float32Array([0, 0.5, 1, 0.25, 0.75, 0.1, 0.2, 0.3, 0.9]);
      expect(ssim(tiny, tiny, [3, 3, 1])).to.be.closeTo(1, 1e-12);
    });

    it('rejects an image that does not fit the shape', () => {
      expect(() => ssim(new Float32Array(10), new Float32Array(10), [28, 28, 1])).to.throw(/784/);
    });
  });

  describe('minCostAssignment', () => {
    it('finds the optimal permutation where the greedy choice fails', () => {
      // Greedy picks (0,0)=1 then (1,1)=10: total 11; optimal (0,1)+(1,0) = 2+2 = 4.
      expect(
        minCostAssignment([
          [1, 2],
          [2, 10],
        ]),
      ).to.deep.equal([1, 0]);
    });

    it('agrees with brute force on random 6×6 matrices', () => {
      const rng = new Rng(11);
      const perms = (n: number): number[][] =>
        n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
      const all = perms(6);
      for (let trial = 0; trial < 20; trial++) {
        const cost = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => rng.uniform(0, 1)));
        const total = (p: number[]) => p.reduce((s, j, i) => s + cost[i][j], 0);
        const best = Math.min(...all.map(total));
        const got = minCostAssignment(cost);
        expect(new Set(got).size).to.equal(6);
        expect(total(got)).to.be.closeTo(best, 1e-12);
      }
    });

    it('handles rectangular matrices', () => {
      expect(minCostAssignment([[5, 1, 9]])).to.deep.equal([1]);
      expect(minCostAssignment([[5], [1], [9]])).to.deep.equal([-1, 0, -1]);
    });
  });

  describe('labelAccuracy', () => {
    it('compares labels as multisets', () => {
      expect(labelAccuracy([7, 3, 1], [3, 3, 7])).to.be.closeTo(2 / 3, 1e-12);
      expect(labelAccuracy([3, 3, 7], [7, 3, 3])).to.equal(1);
      expect(labelAccuracy([4], [5])).to.equal(0);
    });
  });

  describe('scoreReconstruction', () => {
    const shape: ImageShape = [28, 28, 1];
    const size = 784;

    it('undoes a shuffled batch and scores a perfect reconstruction as perfect', () => {
      const d = loadMnist();
      const truth = { images: d.images.slice(0, 4 * size), labels: Array.from(d.labels.subarray(0, 4)), count: 4 };
      const order = [2, 0, 3, 1];
      const images = new Float32Array(4 * size);
      order.forEach((j, i) => images.set(truth.images.subarray(j * size, (j + 1) * size), i * size));
      const score = scoreReconstruction({ images, labels: order.map((j) => truth.labels[j]), count: 4 }, truth, shape);
      expect(score.assignment).to.deep.equal(order);
      expect(score.mse).to.equal(0);
      expect(score.psnr).to.equal(PSNR_CAP_DB);
      expect(score.ssim).to.be.closeTo(1, 1e-12);
      expect(score.labelAccuracy).to.equal(1);
    });

    it('averages per-image figures over the batch', () => {
      const d = loadMnist();
      const truth = { images: d.images.slice(0, 2 * size), labels: [0, 1], count: 2 };
      // Image 0 off by 0.1 everywhere (20 dB), image 1 off by 0.01 (40 dB).
      const recon = truth.images.slice();
      for (let i = 0; i < size; i++) {
        recon[i] += 0.1;
        recon[size + i] += 0.01;
      }
      const score = scoreReconstruction({ images: recon, labels: [1, 9], count: 2 }, truth, shape);
      expect(score.assignment).to.deep.equal([0, 1]);
      expect(score.psnr).to.be.closeTo(30, 1e-4);
      expect(score.mse).to.be.closeTo((0.01 + 0.0001) / 2, 1e-8);
      expect(score.labelAccuracy).to.equal(0.5);
    });

    it('names the batch whose size is wrong', () => {
      const truth = { images: new Float32Array(size), labels: [0], count: 1 };
      expect(() => scoreReconstruction({ images: new Float32Array(size), labels: [0, 1], count: 1 }, truth, shape)).to.throw(
        /reconstruction\.labels/,
      );
      expect(() => scoreReconstruction(truth, { images: new Float32Array(10), labels: [0], count: 1 }, shape)).to.throw(/truth\.images/);
    });
  });
});
