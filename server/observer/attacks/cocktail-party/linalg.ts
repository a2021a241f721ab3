/**
 * Small dense linear algebra on row-major Float64Arrays, enough for whitening and unmixing a few
 * hundred mixtures: products, a symmetric eigendecomposition (cyclic Jacobi) and row normalisation.
 */

/** A row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const values = data ?? new Float64Array(rows * cols);
  if (values.length !== rows * cols) throw new Error(`matrix: ${values.length} values for ${rows}×${cols}`);
  return { rows, cols, data: values };
}

/** a · b. */
export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`multiply: ${a.rows}×${a.cols} by ${b.rows}×${b.cols}`);
  const out = matrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    const row = i * b.cols;
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      if (v === 0) continue;
      const bRow = k * b.cols;
      for (let j = 0; j < b.cols; j++) out.data[row + j] += v * b.data[bRow + j];
    }
  }
  return out;
}

/** a · bᵀ (both with the same column count). */
export function multiplyTransposed(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new Error(`multiplyTransposed: ${a.rows}×${a.cols} by (${b.rows}×${b.cols})ᵀ`);
  const out = matrix(a.rows, b.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      const ai = i * a.cols;
      const bj = j * b.cols;
      for (let k = 0; k < a.cols; k++) s += a.data[ai + k] * b.data[bj + k];
      out.data[i * b.rows + j] = s;
    }
  }
  return out;
}

export function transpose(a: Matrix): Matrix {
  const out = matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

export function identity(n: number): Matrix {
  const out = matrix(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = 1;
  return out;
}

/** Scales every row to unit L2 norm (zero rows stay zero). */
export function normaliseRows(a: Matrix): void {
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += a.data[i * a.cols + j] ** 2;
    const n = Math.sqrt(s);
    if (n > 0) for (let j = 0; j < a.cols; j++) a.data[i * a.cols + j] /= n;
  }
}

/**
 * Eigenvalues (descending) and unit eigenvectors (the columns of `vectors`) of a symmetric matrix,
 * by cyclic Jacobi rotations: slow for large n but exact enough and dependency-free.
 */
export function symmetricEigen(input: Matrix, maxSweeps = 60): { values: Float64Array; vectors: Matrix } {
  const n = input.rows;
  if (input.cols !== n) throw new Error(`symmetricEigen: matrix is ${input.rows}×${input.cols}, not square`);
  const a = Float64Array.from(input.data);
  const v = identity(n).data;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j] ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-24 * total) break;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) rotate(a, v, n, p, q);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = matrix(n, n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors.data[r * n + dst] = v[r * n + src];
  });
  return { values, vectors };
}

function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q];
  if (Math.abs(apq) < 1e-300) return;
  const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p];
    const akq = a[k * n + q];
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k];
    const aqk = a[q * n + k];
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p];
    const vkq = v[k * n + q];
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}

/** Symmetric inverse square root (M Mᵀ)^{-1/2} M: the nearest matrix with orthonormal rows. */
export function orthonormaliseRows(m: Matrix): Matrix {
  const { values, vectors } = symmetricEigen(multiplyTransposed(m, m));
  const n = m.rows;
  const inv = matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (vectors.data[i * n + k] * vectors.data[j * n + k]) / Math.sqrt(Math.max(values[k], 1e-300));
      inv.data[i * n + j] = s;
    }
  }
  return multiply(inv, m);
}
