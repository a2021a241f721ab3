/** Per-tensor views of a flat update, for defences that act tensor by tensor. */
import type { ParamSpec } from '../../shared/models/types';

export interface Segment {
  name: string;
  values: Float32Array;
}

/** The update split at the model's tensor boundaries; one segment "update" without specs. */
export function tensorSegments(values: Float32Array, specs: readonly ParamSpec[] | undefined): Segment[] {
  if (!specs) return [{ name: 'update', values }];
  const segments: Segment[] = [];
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    segments.push({ name: spec.name, values: values.subarray(offset, offset + size) });
    offset += size;
  }
  if (offset !== values.length) {
    throw new Error(`defences: the update has ${values.length} values but the model's parameter specs add up to ${offset}`);
  }
  return segments;
}

/** L2 norm, accumulated in double precision. */
export function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}
