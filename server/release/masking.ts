/** Output masking: what the API reveals of one input's class probabilities. */
import type { Masking } from './schema';

export interface MaskedOutput {
  /** Predicted class (arg max of the unmasked scores; ties to the lowest index). */
  label: number;
  /** One entry per class; null where the masking hides it; null altogether for label-only. */
  scores: (number | null)[] | null;
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

export function maskScores(probabilities: ArrayLike<number>, masking: Masking): MaskedOutput {
  const label = argMax(probabilities);
  const all = Array.from(probabilities, Number);
  switch (masking.mode) {
    case 'full':
      return { label, scores: all };
    case 'round':
      return { label, scores: all.map((p) => roundTo(p, masking.decimals)) };
    case 'label-only':
      return { label, scores: null };
    case 'top-k': {
      const order = all.map((_, i) => i).sort((a, b) => all[b] - all[a] || a - b);
      const shown = new Set(order.slice(0, masking.k));
      return { label, scores: all.map((p, i) => (shown.has(i) ? p : null)) };
    }
  }
}
