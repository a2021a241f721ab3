/**
 * The slice of tfjs's cpu backend that fedleak's kernels use: read an input's values, make an
 * output. Typed here so that kernel code stays free of `any`.
 */
import type { tf } from '../tf';

export type TensorInfo = tf.TensorInfo;
export type DataType = tf.DataType;

export interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array | Uint8Array): TensorInfo;
}

export function asCpuBackend(backend: unknown): CpuBackendLike {
  return backend as CpuBackendLike;
}

/**
 * Float32 values of a cpu tensor: no copy when stored as a Float32Array, a converted copy when
 * the backend holds another array type (tfjs keeps e.g. grad seeds as plain number arrays).
 */
export function f32(backend: CpuBackendLike, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Float32Array) return values;
  if (Array.isArray(values) || ArrayBuffer.isView(values)) return Float32Array.from(values as ArrayLike<number>);
  throw new Error(`fast kernel: tensor of shape [${t.shape}] (${t.dtype}) has no readable cpu values`);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
