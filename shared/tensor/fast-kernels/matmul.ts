/**
 * Batched matrix product on float32 arrays, C[b] = op(A[b]) · op(B[b]) with op = transpose or
 * identity, batch dims broadcast when one side has a single batch. batchMatMulWasm runs it on the
 * SIMD GEMM of wasm/kernels.wat; batchMatMul is the TypeScript fallback, with the loop order
 * keeping the innermost loop contiguous for each of the four transpose combinations.
 */
import type { WasmGemm } from './wasm-gemm';

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
    if (k === 1 && !s.transposeB) {
      // Outer product (e.g. xᵀ·dy for a dense layer's weight gradient): no accumulation needed.
      for (let i = 0; i < m; i++) {
        const av = a[aOff + i]; // with k = 1, A is [m][1] or [1][m]: the same layout
        const row = cOff + i * n;
        for (let j = 0; j < n; j++) out[row + j] = av * b[bOff + j];
      }
      continue;
    }
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

const up4 = (n: number): number => (n + 3) & ~3;

/**
 * op(B) as [batchB][k][np] rows padded with zeros to np = n rounded up to 4, cached per values
 * array (attacks multiply by the same weights thousands of times; tfjs never mutates values).
 */
const paddedB = new WeakMap<Float32Array, Float32Array>();
const paddedBt = new WeakMap<Float32Array, Float32Array>();
function padB(b: Float32Array, s: MatMulShape, np: number): Float32Array {
  const cache = s.transposeB ? paddedBt : paddedB;
  const hit = cache.get(b);
  if (hit && hit.length === s.batchB * s.k * np) return hit;
  const { k, n } = s;
  const data = new Float32Array(s.batchB * k * np);
  for (let bi = 0; bi < s.batchB; bi++) {
    const src = bi * k * n;
    const dst = bi * k * np;
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) data[dst + p * np + j] = s.transposeB ? b[src + j * k + p] : b[src + p * n + j];
    }
  }
  cache.set(b, data);
  return data;
}

/**
 * The same product on the WebAssembly SIMD GEMM (A read through strides, B padded); null when
 * the shared dimension is tiny (K < 8) or suits neither wasm GEMM form (K > 16, not ÷ 4).
 */
export function batchMatMulWasm(w: WasmGemm, a: Float32Array, b: Float32Array, s: MatMulShape): Float32Array | null {
  const { m, n, k } = s;
  // Tiny K (an outer product such as xᵀ·dy): the copies would outweigh the arithmetic.
  if (k < 8 || (k > 16 && k % 4 !== 0)) return null;
  const np = up4(n);
  const batch = Math.max(s.batchA, s.batchB);
  const bOff = up4(a.length);
  const cOff = bOff + s.batchB * k * np;
  const mem = w.reserve(cOff + batch * m * np);
  mem.set(a, 0);
  mem.set(padB(b, s, np), bOff);
  const sai = s.transposeA ? 1 : k;
  const sak = s.transposeA ? m : 1;
  for (let bi = 0; bi < batch; bi++) {
    const aAt = (s.batchA === 1 ? 0 : bi) * m * k;
    const bAt = bOff + (s.batchB === 1 ? 0 : bi) * k * np;
    w.gemm(aAt, sai, sak, bAt, np, cOff + bi * m * np, np, m, np >> 2, k);
  }
  if (np === n) return mem.slice(cOff, cOff + batch * m * n);
  const out = new Float32Array(batch * m * n);
  for (let r = 0; r < batch * m; r++) for (let j = 0; j < n; j++) out[r * n + j] = mem[cOff + r * np + j];
  return out;
}
