/**
 * Reading examples out of a trapped dense layer's gradient: every unit with ∇b_i ≠ 0 gives
 * x̂_i = ∇W[:, i] / ∇b_i, exact when one example fired the unit. The server does not know which units
 * fired once, so it ranks: ratios that leave [0, 1] are mixtures with opposite-signed errors and are
 * dropped; a ratio that recurs across units (several units trapped by the same single example) is
 * almost surely an example, while a mixture is unique. Clusters are returned largest first, up to the
 * expected count.
 */
import { splitFlat } from '../../shared/models/params';
import type { ParamSpec } from '../../shared/models/types';

export interface TrapReadoutOptions {
  expected: number;
  /** |∇b| at or below this is an inactive unit. Default: 1e-6 of the largest |∇b|. */
  biasFloor?: number;
  /** Fraction of a ratio's values that must lie in [−margin, 1 + margin]. Default 0.99. */
  inRange?: number;
  margin?: number;
  /** Two ratios whose RMS difference is below this are the same example. Default 1e-3. */
  sameTolerance?: number;
}

export interface TrapReadout {
  images: Float32Array;
  count: number;
  /** Units behind each returned image (the cluster). */
  units: number[][];
  /** Units with a usable bias gradient, and how many of those were in range. */
  active: number;
  inRangeUnits: number;
}

interface Cluster {
  image: Float32Array;
  units: number[];
  weight: number;
}

function ratio(kernelGrad: Float32Array, units: number, unit: number, b: number, inputs: number): Float32Array {
  const x = new Float32Array(inputs);
  for (let j = 0; j < inputs; j++) x[j] = kernelGrad[j * units + unit] / b;
  return x;
}

function rms(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s / a.length);
}

export function trapReadout(kernelGrad: Float32Array, biasGrad: Float32Array, options: TrapReadoutOptions): TrapReadout {
  const units = biasGrad.length;
  const inputs = kernelGrad.length / units;
  if (!Number.isInteger(inputs) || inputs < 1)
    throw new Error(`trap readout: kernel gradient of ${kernelGrad.length} values does not fit ${units} units`);
  if (!Number.isInteger(options.expected) || options.expected < 1)
    throw new Error(`trap readout: expected must be a positive integer, got ${options.expected}`);
  let largest = 0;
  for (const b of biasGrad) largest = Math.max(largest, Math.abs(b));
  const floor = options.biasFloor ?? 1e-6 * largest;
  const margin = options.margin ?? 0.01;
  const needed = options.inRange ?? 0.99;
  const tolerance = options.sameTolerance ?? 1e-3;
  const clusters: Cluster[] = [];
  let active = 0;
  let inRangeUnits = 0;
  for (let u = 0; u < units; u++) {
    const b = biasGrad[u];
    if (!(Math.abs(b) > floor)) continue;
    active++;
    const x = ratio(kernelGrad, units, u, b, inputs);
    let inside = 0;
    for (const v of x) if (v >= -margin && v <= 1 + margin) inside++;
    if (inside < needed * inputs) continue;
    inRangeUnits++;
    for (let j = 0; j < inputs; j++) x[j] = Math.min(1, Math.max(0, x[j]));
    const home = clusters.find((c) => rms(c.image, x) < tolerance);
    if (!home) clusters.push({ image: x, units: [u], weight: Math.abs(b) });
    else {
      home.units.push(u);
      if (Math.abs(b) > home.weight) Object.assign(home, { image: x, weight: Math.abs(b) });
    }
  }
  clusters.sort((a, b) => b.units.length - a.units.length || b.weight - a.weight);
  const kept = clusters.slice(0, options.expected);
  const images = new Float32Array(kept.length * inputs);
  kept.forEach((c, i) => images.set(c.image, i * inputs));
  return { images, count: kept.length, units: kept.map((c) => c.units), active, inRangeUnits };
}

/** The readout on a whole flat update in `specs` order, at the trapped layer's (kernel, bias) indices. */
export function trapReadoutFromUpdate(
  update: Float32Array,
  specs: readonly ParamSpec[],
  layer: { kernel: number; bias: number },
  options: TrapReadoutOptions,
): TrapReadout {
  const parts = splitFlat(update, specs);
  if (specs[layer.kernel]?.shape.length !== 2 || specs[layer.bias]?.shape.length !== 1) {
    throw new Error(`trap readout: parameters ${layer.kernel} and ${layer.bias} are not a dense kernel and its bias`);
  }
  return trapReadout(parts[layer.kernel], parts[layer.bias], options);
}
