/**
 * Reading examples out of an imprint block's first-layer gradient (Robbing the Fed).
 *
 * Unit i fires for the examples with h(x) > c_i and, thanks to the 1/gain back-projection, each such
 * example n adds δ_n·x_n to row i of ∇W and δ_n to ∇b_i, with the same δ_n on every row. So
 * row_i − row_{i+1} holds exactly the examples whose statistic falls in bin i (the last row stands
 * alone), and x̂ = ΔW_i / Δb_i is that example when it is alone in its bin. The same holds for the sum
 * (or mean) of many clients' gradients, as secure aggregation delivers it, and for a one-step FedAvg
 * weight delta (−lr·gradient: the ratio cancels the scale).
 *
 * Excess hits: when more bins are non-empty than examples are expected, keep the expected number —
 * by largest |Δb| ("bias": the best-conditioned divisions, empty bins under quantisation noise have
 * tiny |Δb|) or by smallest |mean(x̂)| before clamping ("weight", the reference's rule; measured: it
 * keeps noise bins under secure aggregation's quantisation and recovers nothing there). Reconstructions
 * are clamped to [0, 1] and padded with zero images up to the expected count.
 */
import { splitFlat } from '../../shared/models/params';
import type { ParamSpec } from '../../shared/models/types';
import type { ImprintSecrets } from './imprint';

export type ExcessHitReduction = 'bias' | 'weight';

export interface ImprintReadoutOptions {
  /** Examples behind the gradient (the round's total); at most this many are returned. */
  expected: number;
  /** |Δb| at or below this is an empty bin. Default: 1e-6 of the largest |Δb|. */
  biasFloor?: number;
  reduction?: ExcessHitReduction;
  /** Pad with zero images up to `expected` (the reference pads). Default true. */
  pad?: boolean;
}

export interface ImprintReadout {
  /** count × N, clamped to [0, 1]. */
  images: Float32Array;
  count: number;
  /** Bin of each returned image (−1 for padding). */
  bins: number[];
  /** Bins whose |Δb| cleared the floor, before the excess-hit rule. */
  hits: number;
}

interface Candidate {
  bin: number;
  deltaBias: number;
  image: Float32Array;
  rawMean: number;
}

function checkShapes(kernelGrad: Float32Array, biasGrad: Float32Array, secrets: ImprintSecrets): void {
  const { inputSize: n, bins: k } = secrets;
  if (biasGrad.length !== k) throw new Error(`imprint readout: bias gradient has ${biasGrad.length} entries, the block has ${k} bins`);
  if (kernelGrad.length !== n * k)
    throw new Error(`imprint readout: kernel gradient has ${kernelGrad.length} entries, the block needs ${n}×${k} = ${n * k}`);
}

/** Per-bin candidates: ΔW_i / Δb_i for every bin whose |Δb_i| clears the floor (kernel in [N, k] layout). */
export function imprintCandidates(
  kernelGrad: Float32Array,
  biasGrad: Float32Array,
  secrets: ImprintSecrets,
  biasFloor?: number,
): Candidate[] {
  checkShapes(kernelGrad, biasGrad, secrets);
  const { inputSize: n, bins: k } = secrets;
  const deltaBias = new Float64Array(k);
  for (let i = 0; i < k; i++) deltaBias[i] = biasGrad[i] - (i + 1 < k ? biasGrad[i + 1] : 0);
  let largest = 0;
  for (const d of deltaBias) largest = Math.max(largest, Math.abs(d));
  const floor = biasFloor ?? 1e-6 * largest;
  const out: Candidate[] = [];
  for (let i = 0; i < k; i++) {
    const db = deltaBias[i];
    if (!(Math.abs(db) > floor)) continue;
    const image = new Float32Array(n);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const dw = kernelGrad[j * k + i] - (i + 1 < k ? kernelGrad[j * k + i + 1] : 0);
      const x = dw / db;
      sum += x;
      image[j] = Math.min(1, Math.max(0, x));
    }
    out.push({ bin: i, deltaBias: db, image, rawMean: sum / n });
  }
  return out;
}

export function imprintReadout(
  kernelGrad: Float32Array,
  biasGrad: Float32Array,
  secrets: ImprintSecrets,
  options: ImprintReadoutOptions,
): ImprintReadout {
  if (!Number.isInteger(options.expected) || options.expected < 1)
    throw new Error(`imprint readout: expected must be a positive integer, got ${options.expected}`);
  const candidates = imprintCandidates(kernelGrad, biasGrad, secrets, options.biasFloor);
  const hits = candidates.length;
  let kept = candidates;
  if (hits > options.expected) {
    const order =
      (options.reduction ?? 'bias') === 'bias'
        ? [...candidates].sort((a, b) => Math.abs(b.deltaBias) - Math.abs(a.deltaBias))
        : [...candidates].sort((a, b) => Math.abs(a.rawMean) - Math.abs(b.rawMean));
    kept = order.slice(0, options.expected).sort((a, b) => a.bin - b.bin);
  }
  const count = options.pad === false ? kept.length : options.expected;
  const n = secrets.inputSize;
  const images = new Float32Array(count * n);
  kept.forEach((c, r) => images.set(c.image, r * n));
  const bins = Array.from({ length: count }, (_, r) => (r < kept.length ? kept[r].bin : -1));
  return { images, count, bins, hits };
}

/**
 * The readout on a whole flat update (or aggregate) in `specs` order: finds the block's tensors by
 * their names ("imprint/kernel", "imprint/bias") — where an attack plugs in.
 */
export function imprintReadoutFromUpdate(
  update: Float32Array,
  specs: readonly ParamSpec[],
  secrets: ImprintSecrets,
  options: ImprintReadoutOptions,
): ImprintReadout {
  const parts = splitFlat(update, specs);
  const kernel = specs.findIndex((s) => s.name === 'imprint/kernel');
  const bias = specs.findIndex((s) => s.name === 'imprint/bias');
  if (kernel < 0 || bias < 0)
    throw new Error('imprint readout: the model has no imprint block (no "imprint/kernel" and "imprint/bias" parameters)');
  return imprintReadout(parts[kernel], parts[bias], secrets, options);
}
