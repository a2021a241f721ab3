/**
 * L-BFGS with the semantics of PyTorch's torch.optim.LBFGS (the optimizer of DLG and iDLG), over one
 * flat parameter vector. Reproduced step for step so that iteration and evaluation counts, step
 * sizes and stopping behave as in the papers' code:
 * - step() evaluates the objective once, then runs up to maxIter iterations and maxEval
 *   evaluations; the first iteration ever uses step size min(1, 1/‖g‖₁)·lr, later ones lr;
 * - the curvature pair (s, y) enters the history only when yᵀs > 1e-10, the history keeps the
 *   last historySize pairs, and the initial inverse Hessian is yᵀs / yᵀy;
 * - without a line search the last iteration of a step moves without re-evaluating (PyTorch's
 *   choice), so the next step's first evaluation supplies that gradient;
 * - history, direction, step, previous gradient and counters carry across step() calls.
 * Arithmetic is float64 (PyTorch uses the parameters' dtype, float32 for DLG); the objective itself
 * stays whatever precision the closure computes in.
 */
import { strongWolfe, type DirectionalObjective } from './line-search';

export interface LbfgsOptions {
  /** Step size (the learning rate); default 1. */
  lr?: number;
  /** Iterations per step(); default 20. */
  maxIter?: number;
  /** Objective evaluations per step(); default ⌊maxIter·5/4⌋ (25). */
  maxEval?: number;
  /** Stop when max |g| ≤ this; default 1e-7. */
  toleranceGrad?: number;
  /** Stop when the loss or the parameters change less than this; default 1e-9. */
  toleranceChange?: number;
  /** Curvature pairs kept; default 100. */
  historySize?: number;
  /** 'none' (fixed step lr, the DLG setting) or 'strong-wolfe'; default 'none'. */
  lineSearch?: 'none' | 'strong-wolfe';
}

export interface Evaluation {
  loss: number;
  /** ∂loss/∂x, same length as x. */
  grad: ArrayLike<number>;
}

/**
 * Evaluates the objective at x. x is a buffer the optimizer reuses: read it (or copy it) before
 * returning, do not keep it.
 */
export type Objective = (x: Float64Array) => Evaluation;

type ResolvedOptions = Required<LbfgsOptions>;

function resolveOptions(o: LbfgsOptions): ResolvedOptions {
  const maxIter = o.maxIter ?? 20;
  const r: ResolvedOptions = {
    lr: o.lr ?? 1,
    maxIter,
    maxEval: o.maxEval ?? Math.floor((maxIter * 5) / 4),
    toleranceGrad: o.toleranceGrad ?? 1e-7,
    toleranceChange: o.toleranceChange ?? 1e-9,
    historySize: o.historySize ?? 100,
    lineSearch: o.lineSearch ?? 'none',
  };
  const positive: (keyof ResolvedOptions)[] = ['lr', 'maxIter', 'maxEval', 'historySize'];
  for (const key of positive) {
    const v = r[key] as number;
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`L-BFGS option ${key} must be a positive number, got ${v}`);
  }
  for (const key of ['maxIter', 'maxEval', 'historySize'] as const) {
    if (!Number.isInteger(r[key])) throw new Error(`L-BFGS option ${key} must be an integer, got ${r[key]}`);
  }
  for (const key of ['toleranceGrad', 'toleranceChange'] as const) {
    if (!(Number.isFinite(r[key]) && r[key] >= 0)) throw new Error(`L-BFGS option ${key} must be ≥ 0, got ${r[key]}`);
  }
  if (r.lineSearch !== 'none' && r.lineSearch !== 'strong-wolfe') {
    throw new Error(`L-BFGS option lineSearch must be 'none' or 'strong-wolfe', got ${String(r.lineSearch)}`);
  }
  return r;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

function sumAbs(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/** The optimizer state PyTorch keeps between step() calls. */
interface LbfgsState {
  funcEvals: number;
  nIter: number;
  d: Float64Array | null;
  t: number;
  oldDirs: Float64Array[];
  oldStps: Float64Array[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Float64Array | null;
  prevLoss: number;
}

export class Lbfgs {
  /** Current parameters; step() updates them in place. */
  readonly x: Float64Array;
  readonly options: Readonly<ResolvedOptions>;
  private readonly state: LbfgsState = {
    funcEvals: 0,
    nIter: 0,
    d: null,
    t: 0,
    oldDirs: [],
    oldStps: [],
    ro: [],
    hDiag: 1,
    prevFlatGrad: null,
    prevLoss: Number.NaN,
  };
  private readonly trial: Float64Array;
  /** Loss of the most recent evaluation (NaN before the first). */
  lastLoss = Number.NaN;

  constructor(x0: ArrayLike<number>, options: LbfgsOptions = {}) {
    if (x0.length === 0) throw new Error('L-BFGS needs at least one parameter');
    this.x = Float64Array.from(x0);
    this.trial = new Float64Array(x0.length);
    this.options = resolveOptions(options);
  }

  /** Objective evaluations over all steps so far. */
  get evaluations(): number {
    return this.state.funcEvals;
  }

  /** Iterations (direction updates) over all steps so far. */
  get iterations(): number {
    return this.state.nIter;
  }

  /** Curvature pairs currently in the history. */
  get historyLength(): number {
    return this.state.oldDirs.length;
  }

  private evaluateAt(closure: Objective, x: Float64Array): { loss: number; grad: Float64Array } {
    const e = closure(x);
    if (e.grad.length !== this.x.length) {
      throw new Error(`L-BFGS objective returned a gradient of length ${e.grad.length}, expected ${this.x.length}`);
    }
    this.lastLoss = e.loss;
    return { loss: e.loss, grad: Float64Array.from(e.grad) };
  }

  /**
   * One PyTorch LBFGS.step(closure): returns the loss at the parameters the step started from
   * (as PyTorch does). The closure is called with the point to evaluate.
   */
  // A line-for-line port of PyTorch's LBFGS.step (torch/optim/lbfgs.py): kept whole so it can be compared with the original.
  // eslint-disable-next-line max-lines-per-function
  step(closure: Objective): number {
    const o = this.options;
    const st = this.state;
    const n = this.x.length;

    const first = this.evaluateAt(closure, this.x);
    let loss = first.loss;
    let flatGrad = first.grad;
    const origLoss = loss;
    let currentEvals = 1;
    st.funcEvals += 1;
    let optCond = maxAbs(flatGrad) <= o.toleranceGrad;
    if (optCond) return origLoss;

    let d = st.d;
    let t = st.t;
    let prevFlatGrad = st.prevFlatGrad;
    let prevLoss = st.prevLoss;

    let nIter = 0;
    while (nIter < o.maxIter) {
      nIter += 1;
      st.nIter += 1;

      // Descent direction.
      if (st.nIter === 1 || d === null || prevFlatGrad === null) {
        d = new Float64Array(n);
        for (let i = 0; i < n; i++) d[i] = -flatGrad[i];
        st.oldDirs = [];
        st.oldStps = [];
        st.ro = [];
        st.hDiag = 1;
      } else {
        const y = new Float64Array(n);
        const s = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          y[i] = flatGrad[i] - prevFlatGrad[i];
          s[i] = d[i] * t;
        }
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (st.oldDirs.length === o.historySize) {
            st.oldDirs.shift();
            st.oldStps.shift();
            st.ro.shift();
          }
          st.oldDirs.push(y);
          st.oldStps.push(s);
          st.ro.push(1 / ys);
          st.hDiag = ys / dot(y, y);
        }
        d = this.twoLoop(flatGrad);
      }

      if (prevFlatGrad === null) prevFlatGrad = new Float64Array(n);
      prevFlatGrad.set(flatGrad);
      prevLoss = loss;

      // Step length: the very first iteration is scaled down by the gradient's L1 norm.
      t = st.nIter === 1 ? Math.min(1, 1 / sumAbs(flatGrad)) * o.lr : o.lr;

      const gtd = dot(flatGrad, d);
      if (gtd > -o.toleranceChange) break;

      let lsFuncEvals = 0;
      if (o.lineSearch === 'strong-wolfe') {
        const dir = d;
        const objective: DirectionalObjective = (step) => {
          for (let i = 0; i < n; i++) this.trial[i] = this.x[i] + step * dir[i];
          return this.evaluateAt(closure, this.trial);
        };
        const ls = strongWolfe(objective, t, d, loss, flatGrad, gtd);
        loss = ls.loss;
        flatGrad = ls.grad;
        t = ls.t;
        lsFuncEvals = ls.evaluations;
        for (let i = 0; i < n; i++) this.x[i] += t * d[i];
        optCond = maxAbs(flatGrad) <= o.toleranceGrad;
      } else {
        for (let i = 0; i < n; i++) this.x[i] += t * d[i];
        if (nIter !== o.maxIter) {
          // PyTorch skips the evaluation after the last iteration of a step.
          const e = this.evaluateAt(closure, this.x);
          loss = e.loss;
          flatGrad = e.grad;
          optCond = maxAbs(flatGrad) <= o.toleranceGrad;
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      st.funcEvals += lsFuncEvals;

      // Stopping rules, in PyTorch's order.
      if (nIter === o.maxIter) break;
      if (currentEvals >= o.maxEval) break;
      if (optCond) break;
      if (maxAbs(d) * Math.abs(t) <= o.toleranceChange) break;
      if (Math.abs(loss - prevLoss) < o.toleranceChange) break;
    }

    st.d = d;
    st.t = t;
    st.prevFlatGrad = prevFlatGrad;
    st.prevLoss = prevLoss;
    return origLoss;
  }

  /** −H·g by the two-loop recursion over the stored curvature pairs. */
  private twoLoop(flatGrad: Float64Array): Float64Array {
    const st = this.state;
    const n = flatGrad.length;
    const k = st.oldDirs.length;
    const al = new Float64Array(k);
    const q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = -flatGrad[i];
    for (let i = k - 1; i >= 0; i--) {
      al[i] = dot(st.oldStps[i], q) * st.ro[i];
      const yi = st.oldDirs[i];
      const a = al[i];
      for (let j = 0; j < n; j++) q[j] -= a * yi[j];
    }
    const r = q;
    for (let j = 0; j < n; j++) r[j] *= st.hDiag;
    for (let i = 0; i < k; i++) {
      const be = dot(st.oldDirs[i], r) * st.ro[i];
      const si = st.oldStps[i];
      const c = al[i] - be;
      for (let j = 0; j < n; j++) r[j] += c * si[j];
    }
    return r;
  }
}
