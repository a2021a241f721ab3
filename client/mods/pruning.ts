/**
 * `pruning` {fraction}: magnitude pruning as in the DLG paper's "gradient compression" defence,
 * which follows Deep Gradient Compression (Lin et al. 2018): per tensor (layer), the
 * round(fraction · size) entries of smallest magnitude are set to zero. Per tensor rather than
 * global so that small tensors (biases) are not wiped out wholesale by large ones. Ties at the
 * threshold are broken by index (lowest first), so exactly that many entries are chosen.
 */
import type { Defense } from './types';
import { tensorSegments } from './segments';

/** Zeroes exactly k smallest-magnitude entries of `values`; returns the threshold magnitude. */
export function zeroSmallest(values: Float32Array, k: number): number {
  if (k <= 0) return 0;
  if (k >= values.length) {
    values.fill(0);
    return Infinity;
  }
  const mags = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) mags[i] = Math.abs(values[i]);
  mags.sort();
  const threshold = mags[k - 1];
  let below = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) < threshold) below++;
  // Everything strictly below the threshold goes, then entries equal to it until k are gone.
  let tiesLeft = k - below;
  for (let i = 0; i < values.length; i++) {
    const m = Math.abs(values[i]);
    if (m < threshold) values[i] = 0;
    else if (m === threshold && tiesLeft > 0) {
      values[i] = 0;
      tiesLeft--;
    }
  }
  return threshold;
}

export const pruning: Defense<{ fraction: number }> = {
  name: 'pruning',
  apply(values, config, { specs }) {
    let zeroed = 0;
    for (const segment of tensorSegments(values, specs)) {
      const k = Math.round(config.fraction * segment.values.length);
      zeroSmallest(segment.values, k);
      zeroed += k;
    }
    return { fraction: config.fraction, zeroed, total: values.length };
  },
};
