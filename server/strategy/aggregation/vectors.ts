/** Small float64-accumulating vector helpers the rules share. */

export function l2Norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** ‖a − b‖², accumulated in float64 (Infinity when it overflows, which sorts last). */
export function squaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/**
 * Coordinate-wise: for each parameter, sort the n clients' values and hand the sorted column to
 * `reduce`. Unweighted, as in Yin et al.
 */
export function coordinateWise(updates: readonly { update: Float32Array }[], reduce: (sorted: Float64Array) => number): Float32Array {
  const n = updates.length;
  const length = updates[0].update.length;
  const column = new Float64Array(n);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < n; j++) column[j] = updates[j].update[i];
    column.sort();
    out[i] = reduce(column);
  }
  return out;
}
