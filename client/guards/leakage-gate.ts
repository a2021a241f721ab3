/**
 * Guard core: leakage-gate, after NVFlare's RelativeDataLeakageValueFilter. Before sending, the
 * client attacks its own update and refuses when a reconstruction is too close to one of its
 * examples: RDLV = (SSIM(r, x) − SSIM(p, x)) / SSIM(p, x), max over reconstructions r, for every
 * local example x, against the prior p the attack starts from; refuse when any RDLV exceeds the
 * threshold (NVFlare's default 1.0).
 *
 * The "short attack" is the analytic one, which needs no optimisation: every dense layer that reads
 * the flattened input gives x̂_i = ∇W[:, i] / ∇b_i for each unit (exact for a unit one example alone
 * reached — what imprint blocks and trap weights arrange, and what an honest MLP's first layer often
 * gives away too). Its prior is the mid-grey image. A model with no such layer (a conv net) passes.
 * SSIM here is a uniform 7×7-window SSIM on [0, 1] images (server/metrics has the Gaussian one; the
 * client cannot import server code): close enough to rank leaks, not to report figures.
 */
import type { ImageShape, ParamSpec } from '../../shared/models/types';

export const RDLV_THRESHOLD = 1.0;
/** Units read per layer (the best-conditioned ones): bounds the cost. */
export const MAX_UNITS = 512;
const PRIOR = 0.5;
const WINDOW = 7;

export interface LeakageVerdict {
  leaky: boolean;
  /** Largest RDLV over the examples (−∞ when nothing could be read). */
  rdlv: number;
  reason: string;
}

/** Mean SSIM over the uniform windows that fit inside the image (per channel, averaged). */
export function windowSsim(a: ArrayLike<number>, b: ArrayLike<number>, shape: ImageShape): number {
  const [h, w, c] = shape;
  const win = Math.min(WINDOW, h, w);
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  let count = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y + win <= h; y++) {
      for (let x = 0; x + win <= w; x++) {
        let sa = 0,
          sb = 0,
          saa = 0,
          sbb = 0,
          sab = 0;
        for (let dy = 0; dy < win; dy++) {
          for (let dx = 0; dx < win; dx++) {
            const i = ((y + dy) * w + (x + dx)) * c + ch;
            sa += a[i];
            sb += b[i];
            saa += a[i] * a[i];
            sbb += b[i] * b[i];
            sab += a[i] * b[i];
          }
        }
        const n = win * win;
        const ma = sa / n,
          mb = sb / n;
        const va = saa / n - ma * ma,
          vb = sbb / n - mb * mb,
          cov = sab / n - ma * mb;
        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        count++;
      }
    }
  }
  return total / count;
}

/** x̂ for the best-conditioned units of every dense layer that reads the flattened input. */
export function unitReconstructions(specs: readonly ParamSpec[], update: Float32Array, inputSize: number): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  specs.forEach((spec, k) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const next = specs[k + 1];
    if (spec.shape.length === 2 && spec.shape[0] === inputSize && next?.shape.length === 1 && next.shape[0] === spec.shape[1]) {
      const units = spec.shape[1];
      const bias = update.subarray(offset + size, offset + size + units);
      let largest = 0;
      for (const b of bias) largest = Math.max(largest, Math.abs(b));
      const order = Array.from({ length: units }, (_, u) => u)
        .filter((u) => Math.abs(bias[u]) > 1e-6 * largest)
        .sort((u, v) => Math.abs(bias[v]) - Math.abs(bias[u]))
        .slice(0, MAX_UNITS);
      for (const u of order) {
        const r = new Float32Array(inputSize);
        for (let j = 0; j < inputSize; j++) r[j] = Math.min(1, Math.max(0, update[offset + j * units + u] / bias[u]));
        out.push(r);
      }
    }
    offset += size;
  });
  return out;
}

export function leakageGate(
  specs: readonly ParamSpec[],
  update: Float32Array,
  examples: Float32Array,
  count: number,
  shape: ImageShape,
  threshold = RDLV_THRESHOLD,
): LeakageVerdict {
  const n = shape[0] * shape[1] * shape[2];
  const recons = unitReconstructions(specs, update, n);
  if (recons.length === 0) return { leaky: false, rdlv: Number.NEGATIVE_INFINITY, reason: '' };
  const prior = new Float32Array(n).fill(PRIOR);
  let worst = Number.NEGATIVE_INFINITY;
  let worstExample = -1;
  for (let e = 0; e < count; e++) {
    const x = examples.subarray(e * n, (e + 1) * n);
    const base = Math.max(1e-6, windowSsim(prior, x, shape));
    for (const r of recons) {
      const rdlv = (windowSsim(r, x, shape) - base) / base;
      if (rdlv > worst) [worst, worstExample] = [rdlv, e];
    }
  }
  const leaky = worst > threshold;
  return {
    leaky,
    rdlv: worst,
    reason: leaky
      ? `RDLV ${worst.toFixed(2)} > ${threshold} for local example ${worstExample} (the update gives it away to a first-layer readout)`
      : '',
  };
}
