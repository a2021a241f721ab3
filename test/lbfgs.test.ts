import { expect } from 'chai';
import { Lbfgs, type Objective } from '../server/observer/optim/lbfgs';
import { cubicInterpolate } from '../server/observer/optim/line-search';
import { Rng } from '../shared/random';

/** Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])², minimum 0 at (1, …, 1). */
function rosenbrock(counter?: { calls: number }): Objective {
  return (x) => {
    if (counter) counter.calls += 1;
    const n = x.length;
    const grad = new Float64Array(n);
    let loss = 0;
    for (let i = 0; i + 1 < n; i++) {
      const a = x[i + 1] - x[i] * x[i];
      const b = 1 - x[i];
      loss += 100 * a * a + b * b;
      grad[i] += -400 * x[i] * a - 2 * b;
      grad[i + 1] += 200 * a;
    }
    return { loss, grad };
  };
}

/**
 * PyTorch 1.13 torch.optim.LBFGS (float64, lr 1, max_iter 20, history 100) on the 4-D Rosenbrock
 * function from (−1.2, 1, −0.5, 0.8): parameters and cumulative func_evals / n_iter after each
 * step(). Generated with python3-torch; reproducing them checks the algorithm, not just convergence.
 */
const TORCH_NO_LINE_SEARCH = [
  { loss0: 281.7, x: [-0.246661402525299, 0.08511975373080845, 0.013145318694413712, 0.0034910197153435758], evals: 20, iters: 20 },
  {
    loss0: 3.4285763478332236,
    x: [0.5451447534426889, 0.29435904213878256, 0.07879293562512116, 0.007804659917192015],
    evals: 40,
    iters: 40,
  },
  { loss0: 1.5606661209083188, x: [1.1058954092299251, 1.18217080221226, 1.2754962516155177, 1.2796114640136078], evals: 60, iters: 60 },
  { loss0: 13.836494536469637, x: [0.9461567037327339, 0.8951187626657763, 0.8014636167061577, 0.6445922917260586], evals: 80, iters: 80 },
  {
    loss0: 0.05382737073414471,
    x: [0.9999995747463819, 0.9999999334059042, 0.9999997209171264, 0.9999995294322788],
    evals: 100,
    iters: 100,
  },
  {
    loss0: 6.461098148069063e-11,
    x: [0.9999995747463819, 0.9999999334059042, 0.9999997209171264, 0.9999995294322788],
    evals: 101,
    iters: 101,
  },
];
const TORCH_STRONG_WOLFE = [
  { loss0: 281.7, x: [-0.011194496594589827, -0.018870367040818035, 0.021736689742713644, -0.002645009355161119], evals: 25, iters: 18 },
  { loss0: 3.100378716858029, x: [0.975642698165829, 0.9533875040042572, 0.9065121418835382, 0.8192281277238846], evals: 48, iters: 38 },
  { loss0: 0.01297004791768479, x: [1.000000141007374, 0.9999999489027472, 0.9999996575629524, 0.9999993318289809], evals: 56, iters: 46 },
  { loss0: 1.70356658910774e-11, x: [1.000000141007374, 0.9999999489027472, 0.9999996575629524, 0.9999993318289809], evals: 57, iters: 47 },
];
const START = [-1.2, 1, -0.5, 0.8];

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, what).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`).to.be.at.most(tol);
  }
}

describe('L-BFGS (PyTorch semantics)', () => {
  it('follows PyTorch’s trajectory on Rosenbrock without line search and converges', () => {
    const opt = new Lbfgs(START);
    const f = rosenbrock();
    for (const want of TORCH_NO_LINE_SEARCH) {
      const loss0 = opt.step(f);
      expect(Math.abs(loss0 - want.loss0)).to.be.at.most(1e-6 * Math.max(1, want.loss0));
      expectClose(opt.x, want.x, 1e-7, 'x');
      expect(opt.evaluations).to.equal(want.evals);
      expect(opt.iterations).to.equal(want.iters);
    }
    expect(f(opt.x).loss).to.be.below(1e-9);
  });

  it('follows PyTorch’s trajectory with the strong-Wolfe line search', () => {
    const opt = new Lbfgs(START, { lineSearch: 'strong-wolfe' });
    const f = rosenbrock();
    for (const want of TORCH_STRONG_WOLFE) {
      const loss0 = opt.step(f);
      expect(Math.abs(loss0 - want.loss0)).to.be.at.most(1e-6 * Math.max(1, want.loss0));
      expectClose(opt.x, want.x, 1e-7, 'x');
      expect(opt.evaluations).to.equal(want.evals);
      expect(opt.iterations).to.equal(want.iters);
    }
    expectClose(opt.x, [1, 1, 1, 1], 1e-5, 'minimiser');
  });

  it('solves a convex quadratic ½xᵀAx − bᵀx to the exact solution', () => {
    const n = 30;
    const rng = new Rng(7);
    // A = MᵀM + I is symmetric positive definite.
    const m = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const a = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => m.reduce((s, row) => s + row[i] * row[j], 0) / n + (i === j ? 1 : 0)),
    );
    const xStar = Array.from({ length: n }, () => rng.normal());
    const b = a.map((row) => row.reduce((s, v, j) => s + v * xStar[j], 0));
    const f: Objective = (x) => {
      const grad = new Float64Array(n);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let ax = 0;
        for (let j = 0; j < n; j++) ax += a[i][j] * x[j];
        grad[i] = ax - b[i];
        loss += 0.5 * x[i] * ax - b[i] * x[i];
      }
      return { loss, grad };
    };
    for (const lineSearch of ['none', 'strong-wolfe'] as const) {
      // The default tolerance_change (1e-9 on gᵀd) stops near |g| ~ 3e-5; tighten it to see the exact solution.
      const opt = new Lbfgs(new Float64Array(n), { lineSearch, toleranceChange: 1e-16 });
      for (let k = 0; k < 10; k++) opt.step(f);
      expectClose(opt.x, xStar, 1e-6, `x (${lineSearch})`);
    }
  });

  it('stops a step once it has made maxEval evaluations', () => {
    // (maxEval 1 still makes 2: PyTorch checks the count only after the first iteration.)
    for (const maxEval of [2, 3, 5, 12]) {
      const counter = { calls: 0 };
      const opt = new Lbfgs(START, { maxIter: 20, maxEval });
      const f = rosenbrock(counter);
      for (let k = 0; k < 4; k++) {
        const before = counter.calls;
        opt.step(f);
        // Rosenbrock from this start never meets another stopping rule this early.
        expect(counter.calls - before, `maxEval ${maxEval}`).to.equal(maxEval);
      }
      expect(opt.evaluations).to.equal(counter.calls);
    }
  });

  it('stops a step after maxIter iterations, skipping the final evaluation as PyTorch does', () => {
    const counter = { calls: 0 };
    const opt = new Lbfgs(START, { maxIter: 7, maxEval: 100 });
    opt.step(rosenbrock(counter));
    expect(opt.iterations).to.equal(7);
    expect(counter.calls).to.equal(7);
  });

  it('carries history, direction and step across step() calls', () => {
    // 12 steps of one iteration each must retrace one step of 12 iterations exactly: the
    // evaluations happen at the same points, and only carried-over state makes them agree.
    const one = new Lbfgs(START, { maxIter: 12 });
    one.step(rosenbrock());
    const many = new Lbfgs(START, { maxIter: 1 });
    for (let k = 0; k < 12; k++) many.step(rosenbrock());
    expect(many.iterations).to.equal(12);
    expect(many.historyLength).to.be.greaterThan(5);
    expectClose(many.x, one.x, 1e-12, 'x');
    expect(many.evaluations).to.equal(one.evaluations);

    // Without the carried state (a fresh optimizer every step) the path is different.
    let x: Float64Array = Float64Array.from(START);
    for (let k = 0; k < 12; k++) {
      const fresh = new Lbfgs(x, { maxIter: 1 });
      fresh.step(rosenbrock());
      x = fresh.x;
    }
    expect(Math.abs(x[0] - one.x[0])).to.be.greaterThan(1e-3);
  });

  it('returns at once when the gradient is already below tolerance_grad', () => {
    const counter = { calls: 0 };
    const opt = new Lbfgs([1, 1, 1], {});
    const loss = opt.step(rosenbrock(counter));
    expect(loss).to.equal(0);
    expect(counter.calls).to.equal(1);
    expect(opt.iterations).to.equal(0);
  });

  it('interpolates the minimiser of a cubic', () => {
    // f(x) = (x − 0.3)² on [0, 1]: f, f' at both ends give the exact minimiser.
    const t = cubicInterpolate(0, 0.09, -0.6, 1, 0.49, 1.4);
    expect(t).to.be.closeTo(0.3, 1e-12);
  });

  it('rejects bad options and a gradient of the wrong length', () => {
    expect(() => new Lbfgs([0], { historySize: 0 })).to.throw(/historySize/);
    expect(() => new Lbfgs([0], { lr: -1 })).to.throw(/lr/);
    expect(() => new Lbfgs([], {})).to.throw(/at least one/);
    const opt = new Lbfgs([0, 0]);
    expect(() => opt.step(() => ({ loss: 0, grad: [1] }))).to.throw(/length 1, expected 2/);
  });
});
