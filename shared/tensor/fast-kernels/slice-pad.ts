/**
 * Slice and constant padding of float32 tensors as block copies. The stock cpu Slice walks every
 * element through index ↔ coordinate conversions (~1 µs each), which made the total-variation term
 * of Inverting Gradients (four slices and their Pad gradients per step) cost more than the network.
 */

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

interface Box {
  size: number[];
  srcShape: number[];
  srcBegin: number[];
  dstShape: number[];
  dstBegin: number[];
}

/**
 * Folds each trailing axis that the box covers whole in both tensors into the axis before it, so
 * that rows are as long as possible (NHWC with one channel would otherwise copy one float at a time).
 */
function collapse(box: Box): Box {
  const b: Box = {
    size: [...box.size],
    srcShape: [...box.srcShape],
    srcBegin: [...box.srcBegin],
    dstShape: [...box.dstShape],
    dstBegin: [...box.dstBegin],
  };
  while (b.size.length > 1) {
    const d = b.size.length - 1;
    if (b.srcShape[d] !== b.size[d] || b.dstShape[d] !== b.size[d]) break;
    const n = b.size[d];
    for (const key of ['size', 'srcShape', 'srcBegin', 'dstShape', 'dstBegin'] as const) {
      b[key][d - 1] *= n;
      b[key].pop();
    }
  }
  return b;
}

/** Copies the box from `src` to `dst`, one contiguous row of its last axis at a time. */
function copyBox(src: Float32Array, dst: Float32Array, box: Box): void {
  if (box.size.some((s) => s === 0)) return;
  const { size, srcShape, srcBegin, dstShape, dstBegin } = collapse(box);
  const rank = size.length;
  const srcStrides = stridesOf(srcShape);
  const dstStrides = stridesOf(dstShape);
  const row = size[rank - 1];
  const walk = (d: number, s: number, t: number): void => {
    if (d === rank - 1) {
      const from = s + srcBegin[d];
      const to = t + dstBegin[d];
      if (row >= 64) dst.set(src.subarray(from, from + row), to);
      else for (let i = 0; i < row; i++) dst[to + i] = src[from + i];
      return;
    }
    for (let i = 0; i < size[d]; i++) walk(d + 1, s + (srcBegin[d] + i) * srcStrides[d], t + (dstBegin[d] + i) * dstStrides[d]);
  };
  walk(0, 0, 0);
}

/** x[begin : begin + size] for begin and size already resolved (no −1 sizes). */
export function sliceF32(x: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[]): Float32Array {
  const out = new Float32Array(size.reduce((a, b) => a * b, 1));
  if (shape.length === 0) {
    out.set(x.subarray(0, out.length));
    return out;
  }
  copyBox(x, out, { size: [...size], srcShape: [...shape], srcBegin: [...begin], dstShape: [...size], dstBegin: size.map(() => 0) });
  return out;
}

/** x padded with `paddings[d] = [before, after]` elements of `constant` on each axis. */
export function padF32(
  x: Float32Array,
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  constant: number,
): { values: Float32Array; shape: number[] } {
  const outShape = shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  if (constant !== 0) out.fill(constant);
  if (shape.length === 0) {
    out.set(x);
    return { values: out, shape: outShape };
  }
  copyBox(x, out, {
    size: [...shape],
    srcShape: [...shape],
    srcBegin: shape.map(() => 0),
    dstShape: outShape,
    dstBegin: paddings.map((p) => p[0]),
  });
  return { values: out, shape: outShape };
}
