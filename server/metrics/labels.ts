/**
 * Label accuracy as a multiset: the fraction of the true labels that the recovered labels account
 * for, regardless of order ({3, 3, 7} recovered as {7, 3, 1} scores 2/3). Order-free because label
 * inference for a batch recovers counts per class, not which image carries which label.
 */
export function labelAccuracy(recovered: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (truth.length === 0) throw new Error('labelAccuracy: no true labels');
  const remaining = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) remaining.set(truth[i], (remaining.get(truth[i]) ?? 0) + 1);
  let hits = 0;
  for (let i = 0; i < recovered.length; i++) {
    const left = remaining.get(recovered[i]) ?? 0;
    if (left > 0) {
      hits += 1;
      remaining.set(recovered[i], left - 1);
    }
  }
  return hits / truth.length;
}
