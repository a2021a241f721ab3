/**
 * `noise` {mechanism, variance}: i.i.d. noise added to every coordinate, parameterised by its
 * variance as in the DLG paper. Gaussian: std √variance. Laplace: scale b = √(variance/2), since a
 * Laplace(b) variable has variance 2b².
 */
import type { Defense } from './types';

export const noise: Defense<{ mechanism: 'gaussian' | 'laplace'; variance: number }> = {
  name: 'noise',
  apply(values, config, { rng }) {
    let sumSq = 0;
    if (config.mechanism === 'gaussian') {
      const std = Math.sqrt(config.variance);
      for (let i = 0; i < values.length; i++) {
        const n = rng.normal(0, std);
        values[i] += n;
        sumSq += n * n;
      }
    } else {
      const b = Math.sqrt(config.variance / 2);
      for (let i = 0; i < values.length; i++) {
        const n = rng.laplace(b);
        values[i] += n;
        sumSq += n * n;
      }
    }
    return { variance: config.variance, std: Math.sqrt(config.variance), noiseNorm: Math.sqrt(sumSq) };
  },
};
