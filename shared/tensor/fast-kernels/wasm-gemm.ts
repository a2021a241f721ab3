/**
 * Loader for the SIMD kernels in wasm/kernels.wat, plus a bump allocator over its memory (the
 * name is historical: the module holds the GEMMs, im2col/col2im, elementwise and fused kernels).
 * Kernels copy their operands into the module's memory, call gemm, and copy the result out; the
 * copies are O(size) against the O(size · K) arithmetic.
 */
import { KERNELS_WASM_BASE64 } from './wasm/kernels-bytes';
import type { ConvGeometry } from './conv';

/** The part of the WebAssembly JS API used here (the project's TS lib set does not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type GemmFn = (
  a: number,
  sai: number,
  sak: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
  m: number,
  nb: number,
  k: number,
) => void;
/** (src, batch, inH, inW, inC, outH, outW, fh, fw, strideH, strideW, padTop, padLeft, dst, kp) */
type PatchFn = (...args: number[]) => void;

/** Conv geometry as the wasm im2col/col2im take it (they do not need the output channel count). */
export type PatchGeometry = Omit<ConvGeometry, 'outC'>;

export class WasmGemm {
  private readonly memory: WasmMemory;
  private readonly fn: GemmFn;
  private readonly rowsFn: GemmFn;
  private readonly im2colFn: PatchFn;
  private readonly col2imFn: PatchFn;
  /** The fused kernels of fused.ts (see wasm/kernels.wat); pointers are float indices. */
  readonly sigmoidBackward: (y: number, dy: number, out: number, n: number) => void;
  readonly sigmoidBackwardGradY: (y: number, dy: number, g: number, out: number, n: number) => void;
  readonly scaledDifference: (a: number, b: number, k: number, out: number, n: number) => void;
  readonly squaredDistance: (a: number, b: number, n: number) => number;
  /** out[i] = 1 / (1 + exp(−x[i])) in lanes of four: x and out need room for n rounded up to 4. */
  readonly sigmoid: (x: number, out: number, n: number) => void;
  private readonly binaryFn: (op: number, mode: number, a: number, b: number, out: number, n: number) => void;
  private view: Float32Array;

  constructor() {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(bytes), {});
    this.memory = instance.exports.memory as WasmMemory;
    this.fn = instance.exports.gemm as GemmFn;
    this.rowsFn = instance.exports.gemm_rows as GemmFn;
    this.im2colFn = instance.exports.im2col as PatchFn;
    this.col2imFn = instance.exports.col2im as PatchFn;
    this.sigmoidBackward = instance.exports.sigmoid_backward as WasmGemm['sigmoidBackward'];
    this.sigmoidBackwardGradY = instance.exports.sigmoid_backward_grad_y as WasmGemm['sigmoidBackwardGradY'];
    this.scaledDifference = instance.exports.scaled_difference as WasmGemm['scaledDifference'];
    this.squaredDistance = instance.exports.squared_distance as WasmGemm['squaredDistance'];
    this.sigmoid = instance.exports.sigmoid as WasmGemm['sigmoid'];
    this.binaryFn = instance.exports.binary as (op: number, mode: number, a: number, b: number, out: number, n: number) => void;
    this.view = new Float32Array(this.memory.buffer);
  }

  /** A Float32Array over the module memory with room for at least `floats` values. */
  reserve(floats: number): Float32Array {
    if (this.view.length < floats) {
      const pages = Math.ceil((floats * 4 - this.memory.buffer.byteLength) / 65536);
      this.memory.grow(pages);
      this.view = new Float32Array(this.memory.buffer);
    }
    return this.view;
  }

  /**
   * C[i, 4j..4j+3] = Σ_{k<K} A[a + i·sai + k·sak] · B[b + k·ldb + 4j..], for i < m, j < nb.
   * Offsets and strides in floats; K ≤ 16 or a multiple of 4.
   */
  gemm(a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, m: number, nb: number, k: number): void {
    // Small K: row-wise accumulation (the dot-product form's per-block set-up would dominate).
    if (k <= 16) {
      this.rowsFn(a, sai, sak, b, ldb, c, ldc, m, nb, k);
      return;
    }
    if (k % 4 !== 0) throw new Error(`wasm gemm: K = ${k} is not a multiple of 4`);
    this.fn(a, sai, sak, b, ldb, c, ldc, m, nb, k);
  }

  /** mem[dst] = rows of length kp, the receptive field of each output pixel of x at mem[src]. */
  im2col(src: number, g: PatchGeometry, dst: number, kp: number): void {
    this.im2colFn(src, g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.fh, g.fw, g.strideH, g.strideW, g.padTop, g.padLeft, dst, kp);
  }

  /**
   * mem[out + i] = mem[a + i] OP mem[b + i] for i < n; op 0 add, 1 sub, 2 mul, 3 div, 4 squared
   * difference; mode 0 both full, 1 b is a scalar, 2 a is a scalar.
   */
  binary(op: number, mode: number, a: number, b: number, out: number, n: number): void {
    this.binaryFn(op, mode, a, b, out, n);
  }

  /** mem[dx] (NHWC, overwritten) = the adjoint of im2col applied to the rows at mem[col]. */
  col2im(col: number, g: PatchGeometry, dx: number, kp: number): void {
    this.col2imFn(col, g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.fh, g.fw, g.strideH, g.strideW, g.padTop, g.padLeft, dx, kp);
  }
}

let shared: WasmGemm | null | undefined;

/** The process-wide instance, or null when this runtime lacks WebAssembly SIMD. */
export function wasmGemm(): WasmGemm | null {
  if (shared === undefined) {
    try {
      shared = new WasmGemm();
    } catch {
      shared = null;
    }
  }
  return shared;
}
