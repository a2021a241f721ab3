/**
 * `quantization` {bits}: what the server receives when the client sends a low-precision update.
 * 16: IEEE fp16 (round-to-nearest-even), back to float32. 8: int8 per tensor with a symmetric
 * scale max|x|/127, q = round(x/scale) ∈ [−127, 127], dequantised as q·scale; error ≤ scale/2.
 */
import type { Defense, StageReport } from './types';
import { roundToFloat16 } from './fp16';
import { tensorSegments } from './segments';

export const quantization: Defense<{ bits: 16 | 8 }> = {
  name: 'quantization',
  apply(values, config, { specs }): StageReport {
    let maxAbsError = 0;
    if (config.bits === 16) {
      let overflowed = 0;
      for (let i = 0; i < values.length; i++) {
        const before = values[i];
        values[i] = roundToFloat16(before);
        if (!Number.isFinite(values[i]) && Number.isFinite(before)) overflowed++;
        else maxAbsError = Math.max(maxAbsError, Math.abs(values[i] - before));
      }
      return { bits: 16, maxAbsError, overflowed };
    }
    let maxScale = 0;
    for (const { values: t } of tensorSegments(values, specs)) {
      let maxAbs = 0;
      for (let i = 0; i < t.length; i++) maxAbs = Math.max(maxAbs, Math.abs(t[i]));
      const scale = maxAbs / 127;
      maxScale = Math.max(maxScale, scale);
      for (let i = 0; i < t.length; i++) {
        const before = t[i];
        t[i] = scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(before / scale))) * scale;
        maxAbsError = Math.max(maxAbsError, Math.abs(t[i] - before));
      }
    }
    return { bits: 8, maxAbsError, maxScale };
  },
};
