/**
 * Flatten all parameters to one Float32Array and back. Order: the model's `specs` order, each
 * tensor row-major in its tfjs layout. This is the order of update vectors on the wire.
 */
import { tf, type Tensor } from '../tensor/tf';
import { type ParamSpec, paramCount } from './types';

export function flattenParams(tensors: readonly Tensor[], specs: readonly ParamSpec[]): Float32Array {
  if (tensors.length !== specs.length) {
    throw new Error(`expected ${specs.length} parameter tensors, got ${tensors.length}`);
  }
  const out = new Float32Array(paramCount(specs));
  let offset = 0;
  tensors.forEach((t, i) => {
    const want = specs[i].shape;
    if (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k])) {
      throw new Error(`parameter ${specs[i].name}: shape [${t.shape}] differs from [${want}]`);
    }
    const values = t.dataSync();
    out.set(values, offset);
    offset += values.length;
  });
  return out;
}

/** Splits a flat vector into per-parameter views (no copy). */
export function splitFlat(flat: Float32Array, specs: readonly ParamSpec[]): Float32Array[] {
  const total = paramCount(specs);
  if (flat.length !== total) {
    throw new Error(`flat parameter vector has ${flat.length} values, the model needs ${total}`);
  }
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    parts.push(flat.subarray(offset, offset + size));
    offset += size;
  }
  return parts;
}

export function unflattenParams(flat: Float32Array, specs: readonly ParamSpec[]): Tensor[] {
  return splitFlat(flat, specs).map((part, i) => tf.tensor(part, specs[i].shape, 'float32'));
}
