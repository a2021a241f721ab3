/**
 * A data prior the paper does not use, for images whose pixels are mostly 0 or 1 (MNIST strokes on
 * a black background): refine each source inside the span of the uncentred mixtures, at the exact
 * scale fixed by the bias gradient, towards a binary image in [0, 1].
 *
 * Why it helps: with a bias, the layer sees [x, 1] for every example, so an image c·V of the span
 * whose "bias pixel" c·q equals 1 is a combination Σ aⱼ xⱼ with Σ aⱼ = 1. Mixtures then have grey,
 * overlapping strokes or negative pixels, while a single digit is (nearly) binary and in range:
 * the penalty min(s, 1 − s) inside [0, 1] plus κ·dist(s, [0, 1])² is lowest at single digits.
 * Independence is not assumed, which is what MNIST digits (shared background and central
 * strokes) violate.
 */
import { adamStep } from './ica';
import { matrix, multiply, multiplyTransposed, symmetricEigen, type Matrix } from './linalg';

export interface Span {
  /** k×d orthonormal basis of the mixtures' row space (uncentred). */
  basis: Matrix;
  /** The bias gradient in the same coordinates: image c·basis has bias pixel c·q. */
  q: Float64Array;
}

/** Top-k row space of the uncentred mixtures and the bias gradient's coordinates in it. */
export function spanOf(mixtures: Matrix, bias: Float64Array, k: number): Span {
  const { values, vectors } = symmetricEigen(multiplyTransposed(mixtures, mixtures));
  const h = mixtures.rows;
  const keep = Math.min(k, h);
  const projection = matrix(keep, h);
  const q = new Float64Array(keep);
  for (let c = 0; c < keep; c++) {
    const scale = 1 / Math.sqrt(Math.max(values[c], 1e-300));
    for (let r = 0; r < h; r++) {
      projection.data[c * h + r] = vectors.data[r * h + c] * scale;
      q[c] += projection.data[c * h + r] * bias[r];
    }
  }
  return { basis: multiply(projection, mixtures), q };
}

export interface RefineOptions {
  iterations: number;
  learningRate: number;
  /** Weight of the out-of-range penalty relative to the binary one. */
  outOfRange: number;
}

/** Refines one image (length d, projected onto the span first); returns the refined image and its penalty. */
export function refineImage(start: ArrayLike<number>, span: Span, o: RefineOptions): { image: Float64Array; penalty: number } {
  const { basis, q } = span;
  const k = basis.rows;
  const d = basis.cols;
  const c = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) c[i] += basis.data[i * d + j] * start[j];
  const qq = q.reduce((s, x) => s + x * x, 0);
  const toUnitBias = () => {
    const excess = (c.reduce((s, x, i) => s + x * q[i], 0) - 1) / qq;
    for (let i = 0; i < k; i++) c[i] -= excess * q[i];
  };
  toUnitBias();
  const m = new Float64Array(k);
  const v = new Float64Array(k);
  const grad = new Float64Array(k);
  const image = new Float64Array(d);
  for (let step = 1; step <= o.iterations; step++) {
    const s = multiply(matrix(1, k, c), basis).data;
    const ds = new Float64Array(d);
    for (let j = 0; j < d; j++) ds[j] = penaltySlope(s[j], o.outOfRange) / d;
    grad.fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) grad[i] += basis.data[i * d + j] * ds[j];
    adamStep(c, grad, m, v, step, o.learningRate);
    toUnitBias();
  }
  image.set(multiply(matrix(1, k, c), basis).data);
  let penalty = 0;
  for (const v of image) penalty += penaltyValue(v, o.outOfRange) / d;
  return { image, penalty };
}

/**
 * Refines every start and keeps the `count` lowest-penalty results that differ from each other
 * (|correlation| below `distinct`): several starts fall into the same digit's basin.
 */
export function refineAndSelect(
  starts: readonly ArrayLike<number>[],
  span: Span,
  count: number,
  o: RefineOptions,
  distinct = 0.8,
): Float64Array[] {
  const refined = starts.map((s) => refineImage(s, span, o)).sort((a, b) => a.penalty - b.penalty);
  const chosen: Float64Array[] = [];
  for (const r of refined) {
    if (chosen.length >= count) break;
    if (chosen.every((c) => Math.abs(correlation(c, r.image)) < distinct)) chosen.push(r.image);
  }
  for (const r of refined) {
    if (chosen.length >= count) break;
    if (!chosen.includes(r.image)) chosen.push(r.image);
  }
  return chosen;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb || 1e-300);
}

function penaltyValue(s: number, kappa: number): number {
  if (s < 0) return kappa * s * s;
  if (s > 1) return kappa * (s - 1) ** 2;
  return Math.min(s, 1 - s);
}

function penaltySlope(s: number, kappa: number): number {
  if (s < 0) return 2 * kappa * s;
  if (s > 1) return 2 * kappa * (s - 1);
  return s < 0.5 ? 1 : -1;
}
