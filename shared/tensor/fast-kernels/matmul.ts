/**
 * Batched matrix product on float32 arrays, C[b] = op(A[b]) · op(B[b]) with op = transpose or
 * identity, batch dims broadcast when one side has a single batch. Loop order keeps the innermost
 * loop contiguous in memory for each of the four transpose combinations.
 */

export interface MatMulShape {
  batchA: number;
  batchB: number;
  /** Rows of op(A), columns of op(B), shared dimension. */
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

export function batchMatMul(a: Float32Array, b: Float32Array, s: MatMulShape): Float32Array {
  const { m, n, k } = s;
  const batch = Math.max(s.batchA, s.batchB);
  const out = new Float32Array(batch * m * n);
  const row = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = (s.batchA === 1 ? 0 : bi) * m * k;
    const bOff = (s.batchB === 1 ? 0 : bi) * k * n;
    const cOff = bi * m * n;
    for (let i = 0; i < m; i++) {
      if (!s.transposeB) {
        // Row i of C as Σ_p A[i,p] · B[p, :] (B rows contiguous).
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const av = s.transposeA ? a[aOff + p * m + i] : a[aOff + i * k + p];
          if (av === 0) continue;
          const bRow = bOff + p * n;
          for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
        }
        for (let j = 0; j < n; j++) out[cOff + i * n + j] = row[j];
      } else {
        // C[i,j] = ⟨A[i, :], B[j, :]⟩ (B stored [n][k]).
        for (let j = 0; j < n; j++) {
          const bRow = bOff + j * k;
          let sum = 0;
          if (s.transposeA) {
            for (let p = 0; p < k; p++) sum += a[aOff + p * m + i] * b[bRow + p];
          } else {
            const aRow = aOff + i * k;
            for (let p = 0; p < k; p++) sum += a[aRow + p] * b[bRow + p];
          }
          out[cOff + i * n + j] = sum;
        }
      }
    }
  }
  return out;
}
