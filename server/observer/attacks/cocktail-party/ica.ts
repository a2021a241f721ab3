/**
 * Independent component analysis for the Cocktail Party attack (Kariyappa et al. 2023): the rows of
 * a dense layer's weight gradient are mixtures G = A·X of the batch's inputs X, with pixels as the
 * samples. Centre each mixture over its pixels, whiten onto the top-k principal directions, then
 * find an unmixing W (k×k) so that the sources S = W·Z look like images:
 *  - fastIca: symmetric FastICA with the log-cosh contrast (the plain baseline);
 *  - unmixWithPriors: the paper's objective, Adam on W from the identity with rows kept at unit
 *    norm, loss = decor·mean(exp(T·|W Wᵀ|) − 1) + tv·mean TV(S) (the released code zeroes the
 *    negentropy term, so it is left out here).
 */
import type { Rng } from '../../../../shared/random';
import {
  identity,
  matrix,
  multiply,
  multiplyTransposed,
  normaliseRows,
  orthonormaliseRows,
  symmetricEigen,
  transpose,
  type Matrix,
} from './linalg';

export interface Whitened {
  /** k×d whitened signals: rows zero-mean, unit variance, mutually uncorrelated. */
  signals: Matrix;
  /** k×n projection P with signals = P·(centred mixtures). */
  projection: Matrix;
  /** Eigenvalues of the k kept directions of the mixtures' covariance (descending). */
  eigenvalues: Float64Array;
  /** Numerical rank of the mixtures (eigenvalues above 1e-10 of the largest): at most the batch size. */
  rank: number;
}

/** Subtracts each row's mean (in place) and returns the means. */
export function centreRows(m: Matrix): Float64Array {
  const means = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.data[i * m.cols + j];
    means[i] = s / m.cols;
    for (let j = 0; j < m.cols; j++) m.data[i * m.cols + j] -= means[i];
  }
  return means;
}

/**
 * Projects the (already centred) mixtures onto their top-k principal directions and rescales each
 * to unit variance: Z = Λ^{-1/2} Eᵀ G with G Gᵀ/(d−1) = E Λ Eᵀ.
 */
export function whiten(mixtures: Matrix, k: number): Whitened {
  const d = mixtures.cols;
  const cov = multiplyTransposed(mixtures, mixtures);
  for (let i = 0; i < cov.data.length; i++) cov.data[i] /= d - 1;
  const { values, vectors } = symmetricEigen(cov);
  const keep = Math.min(k, mixtures.rows);
  const projection = matrix(keep, mixtures.rows);
  for (let c = 0; c < keep; c++) {
    const scale = 1 / Math.sqrt(Math.max(values[c], 1e-300));
    for (let r = 0; r < mixtures.rows; r++) projection.data[c * mixtures.rows + r] = vectors.data[r * mixtures.rows + c] * scale;
  }
  const floor = values[0] * 1e-10;
  const rank = values.filter((v) => v > floor).length;
  return { signals: multiply(projection, mixtures), projection, eigenvalues: values.slice(0, keep), rank };
}

export interface FastIcaOptions {
  iterations?: number;
  tolerance?: number;
  rng: Rng;
}

/** Symmetric FastICA (log-cosh), from a random orthogonal start; returns the k×k unmixing matrix. */
export function fastIca(z: Matrix, options: FastIcaOptions): Matrix {
  const k = z.rows;
  const d = z.cols;
  const start = matrix(k, k);
  for (let i = 0; i < start.data.length; i++) start.data[i] = options.rng.normal();
  let w = orthonormaliseRows(start);
  const iterations = options.iterations ?? 400;
  for (let it = 0; it < iterations; it++) {
    const wz = multiply(w, z);
    const g = matrix(k, d);
    const meanDerivative = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = Math.tanh(wz.data[i * d + j]);
        g.data[i * d + j] = t;
        s += 1 - t * t;
      }
      meanDerivative[i] = s / d;
    }
    const next = multiplyTransposed(g, z);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) next.data[i * k + j] = next.data[i * k + j] / d - meanDerivative[i] * w.data[i * k + j];
    const updated = orthonormaliseRows(next);
    const change = maxAlignmentChange(updated, w);
    w = updated;
    if (change < (options.tolerance ?? 1e-6)) break;
  }
  return w;
}

function maxAlignmentChange(a: Matrix, b: Matrix): number {
  const k = a.rows;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += a.data[i * k + j] * b.data[i * k + j];
    worst = Math.max(worst, Math.abs(Math.abs(dot) - 1));
  }
  return worst;
}

export interface PriorOptions {
  /** Image height and width of one source (d = h·w·channels). */
  height: number;
  width: number;
  channels: number;
  /** Weight of the decorrelation penalty and its temperature T (paper's FC-2 settings: 1.47, 12.4). */
  decor: number;
  temperature: number;
  /** Weight of the total-variation prior (paper's FC-2: 3.1). */
  tv: number;
  iterations: number;
  learningRate: number;
}

/** The paper's prior-regularised unmixing, by Adam on W from the identity. */
export function unmixWithPriors(z: Matrix, options: PriorOptions): Matrix {
  const k = z.rows;
  const w = identity(k);
  const m = new Float64Array(k * k);
  const v = new Float64Array(k * k);
  const zt = transpose(z);
  for (let step = 1; step <= options.iterations; step++) {
    const grad = decorrelationGradient(w, options.decor, options.temperature);
    const s = multiply(w, z);
    const sourceGrad = totalVariationGradient(s, options);
    const tvGrad = multiply(sourceGrad, zt);
    for (let i = 0; i < grad.data.length; i++) grad.data[i] += tvGrad.data[i];
    adamStep(w.data, grad.data, m, v, step, options.learningRate);
    normaliseRows(w);
  }
  return w;
}

/** ∂/∂W of decor·mean(exp(T·|W Wᵀ|) − 1). */
function decorrelationGradient(w: Matrix, weight: number, temperature: number): Matrix {
  const k = w.rows;
  const gram = multiplyTransposed(w, w);
  const dGram = matrix(k, k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const g = gram.data[i * k + j];
      dGram.data[i * k + j] = (weight * temperature * Math.exp(temperature * Math.abs(g)) * Math.sign(g)) / (k * k);
    }
  }
  // d(W Wᵀ) contributes (D + Dᵀ)·W; D is symmetric here.
  const out = multiply(dGram, w);
  for (let i = 0; i < out.data.length; i++) out.data[i] *= 2;
  return out;
}

/** ∂/∂S of tv·mean over sources of the mean anisotropic L1 total variation of each source image. */
function totalVariationGradient(s: Matrix, o: PriorOptions): Matrix {
  const out = matrix(s.rows, s.cols);
  const { height: h, width: w, channels: c } = o;
  const pairs = ((h - 1) * w + h * (w - 1)) * c;
  const scale = o.tv / (s.rows * pairs);
  for (let r = 0; r < s.rows; r++) {
    const base = r * s.cols;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          const i = base + (y * w + x) * c + ch;
          if (x + 1 < w) addPair(s.data, out.data, i, i + c, scale);
          if (y + 1 < h) addPair(s.data, out.data, i, i + w * c, scale);
        }
      }
    }
  }
  return out;
}

function addPair(s: Float64Array, out: Float64Array, i: number, j: number, scale: number): void {
  const sign = Math.sign(s[j] - s[i]) * scale;
  out[j] += sign;
  out[i] -= sign;
}

/** One Adam step (β1 0.9, β2 0.999) on `x` in place. */
export function adamStep(x: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, step: number, lr: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const c1 = 1 - b1 ** step;
  const c2 = 1 - b2 ** step;
  for (let i = 0; i < x.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    x[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
  }
}
