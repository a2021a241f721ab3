/** `clipping` {norm}: scale the whole update down to L2 norm ≤ norm; smaller updates pass unchanged. */
import type { Defense } from './types';
import { l2Norm } from './segments';

export const clipping: Defense<{ norm: number }> = {
  name: 'clipping',
  apply(values, config) {
    const normBefore = l2Norm(values);
    const scale = normBefore > config.norm ? config.norm / normBefore : 1;
    if (scale < 1) for (let i = 0; i < values.length; i++) values[i] *= scale;
    return { normBefore, normAfter: scale < 1 ? l2Norm(values) : normBefore, scale, clipped: scale < 1 ? 1 : 0 };
  },
};
