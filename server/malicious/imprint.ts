/**
 * Robbing the Fed (Fowl et al., ICLR 2022): the imprint block a malicious server puts in front of a
 * model. Linear(N→k) whose k rows all hold the same query w (so every unit sees the same scalar
 * statistic h(x) = w·x), biases −c_i at the quantiles of h over public data so the k bins are about
 * equally likely, ReLU, then Linear(k→N) with every weight 1/gain so that an example's upstream
 * gradient is the same on every unit it switches on. Row i's gradient is then the sum over the
 * examples with h(x) > c_i, and the difference of consecutive rows isolates the examples of one bin
 * (imprint-readout.ts).
 *
 * Parameters come in fedleak's tfjs layout: dense kernels [in, out], biases [out]. The server keeps
 * `secrets` (a plain serialisable object); the clients only ever see the parameters.
 */
import type { ParamSpec } from '../../shared/models/types';
import { laplaceQuantile, normalQuantile, sampleQuantile } from './quantiles';

/** "avg": mean brightness, w_j = 1/N. "fourier": the DCT-II basis vector of `mode` (breaching's scaling). */
export type ImprintQuery = { kind: 'avg' } | { kind: 'fourier'; mode: number };

/**
 * How bin boundaries follow from the public statistic: a normal or Laplace fit of its mean and std
 * (the reference method: normal for "avg", Laplace for "fourier"), or its empirical quantiles.
 */
export type BinDistribution = 'normal' | 'laplace' | 'empirical';

/** The query's value on public data: its mean and std, and the sorted values for "empirical". */
export interface PublicStatistic {
  mean: number;
  std: number;
  sorted?: number[];
}

export interface ImprintOptions {
  inputSize: number;
  bins: number;
  statistic: PublicStatistic;
  /** Default: fourier, mode 0. */
  query?: ImprintQuery;
  /** Default: normal for avg, laplace for fourier. */
  distribution?: BinDistribution;
  /** Scales the first layer (and 1/gain the second): the gradient entries scale as 1/gain. Default 1. */
  gain?: number;
}

export interface ImprintSecrets {
  kind: 'imprint';
  inputSize: number;
  bins: number;
  query: ImprintQuery;
  distribution: BinDistribution;
  gain: number;
  statistic: { mean: number; std: number };
  /** c_0 < c_1 < … < c_{k−1} in units of the statistic; unit i fires when h(x) > c_i. c_0 catches all. */
  boundaries: number[];
}

export interface ImprintBlock {
  /** [N, k]: column i = gain · w. */
  kernel: Float32Array;
  /** [k]: −gain · c_i. */
  bias: Float32Array;
  /** [k, N]: every entry 1/gain. */
  outKernel: Float32Array;
  /** [N]: zeros. */
  outBias: Float32Array;
  specs: ParamSpec[];
  secrets: ImprintSecrets;
}

/** Standard deviations below the mean of the always-on first boundary (breaching: −10). */
const FLOOR_STDS = 10;

export function imprintSpecs(inputSize: number, bins: number): ParamSpec[] {
  return [
    { name: 'imprint/kernel', shape: [inputSize, bins] },
    { name: 'imprint/bias', shape: [bins] },
    { name: 'imprint-out/kernel', shape: [bins, inputSize] },
    { name: 'imprint-out/bias', shape: [inputSize] },
  ];
}

/** The query vector w (length N). */
export function queryWeights(query: ImprintQuery, inputSize: number): Float64Array {
  const w = new Float64Array(inputSize);
  if (query.kind === 'avg') return w.fill(1 / inputSize);
  const scale = (4 * Math.max(query.mode, 0.33)) / inputSize;
  for (let j = 0; j < inputSize; j++) w[j] = Math.cos((Math.PI / inputSize) * (j + 0.5) * query.mode) * scale;
  return w;
}

/** h(x) = w·x for each of `count` flat examples of `inputSize` values. */
export function queryValues(query: ImprintQuery, images: Float32Array, count: number, inputSize: number): number[] {
  if (images.length !== count * inputSize) throw new Error(`imprint: ${images.length} values are not ${count} examples of ${inputSize}`);
  const w = queryWeights(query, inputSize);
  return Array.from({ length: count }, (_, n) => {
    let h = 0;
    for (let j = 0; j < inputSize; j++) h += w[j] * images[n * inputSize + j];
    return h;
  });
}

/** Mean, std and sorted values of the query over public examples. */
export function measurePublicStatistic(query: ImprintQuery, images: Float32Array, count: number, inputSize: number): PublicStatistic {
  if (count < 2) throw new Error(`imprint: the public statistic needs at least 2 examples, got ${count}`);
  const values = queryValues(query, images, count, inputSize);
  const mean = values.reduce((s, v) => s + v, 0) / count;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (count - 1));
  return { mean, std, sorted: values.sort((a, b) => a - b) };
}

/** Equal-mass boundaries c_0..c_{k−1}; c_0 lies far below every plausible value. */
export function imprintBoundaries(bins: number, statistic: PublicStatistic, distribution: BinDistribution): number[] {
  const { mean, std } = statistic;
  if (!(std > 0) || !Number.isFinite(mean))
    throw new Error(`imprint: the public statistic needs a finite mean and a positive std, got mean ${mean}, std ${std}`);
  const c = [mean - FLOOR_STDS * std];
  for (let i = 1; i < bins; i++) {
    const p = i / bins;
    if (distribution === 'normal') c.push(mean + std * normalQuantile(p));
    else if (distribution === 'laplace') c.push(mean + std * laplaceQuantile(p, Math.SQRT1_2));
    else {
      if (!statistic.sorted || statistic.sorted.length < 2)
        throw new Error('imprint: distribution "empirical" needs the sorted public values (statistic.sorted)');
      c.push(sampleQuantile(statistic.sorted, p));
    }
  }
  return c;
}

function checkOptions(o: ImprintOptions): void {
  if (!Number.isInteger(o.inputSize) || o.inputSize < 1)
    throw new Error(`imprint: inputSize must be a positive integer, got ${o.inputSize}`);
  if (!Number.isInteger(o.bins) || o.bins < 2) throw new Error(`imprint: bins must be an integer ≥ 2, got ${o.bins}`);
  const gain = o.gain ?? 1;
  if (!(gain > 0) || !Number.isFinite(gain)) throw new Error(`imprint: gain must be a positive number, got ${gain}`);
  if (o.query?.kind === 'fourier' && !(o.query.mode >= 0)) throw new Error(`imprint: fourier mode must be ≥ 0, got ${o.query.mode}`);
}

export function buildImprintBlock(options: ImprintOptions): ImprintBlock {
  checkOptions(options);
  const { inputSize: n, bins: k } = options;
  const query = options.query ?? { kind: 'fourier', mode: 0 };
  const distribution = options.distribution ?? (query.kind === 'fourier' ? 'laplace' : 'normal');
  const gain = options.gain ?? 1;
  const boundaries = imprintBoundaries(k, options.statistic, distribution);
  const w = queryWeights(query, n);
  const kernel = new Float32Array(n * k);
  for (let j = 0; j < n; j++) kernel.fill(gain * w[j], j * k, (j + 1) * k);
  const bias = Float32Array.from(boundaries, (c) => -gain * c);
  const secrets: ImprintSecrets = {
    kind: 'imprint',
    inputSize: n,
    bins: k,
    query: { ...query },
    distribution,
    gain,
    statistic: { mean: options.statistic.mean, std: options.statistic.std },
    boundaries,
  };
  return {
    kernel,
    bias,
    outKernel: new Float32Array(k * n).fill(1 / gain),
    outBias: new Float32Array(n),
    specs: imprintSpecs(n, k),
    secrets,
  };
}

/** The block's parameters as one flat vector in `specs` order. */
export function imprintBlockParams(block: ImprintBlock): Float32Array {
  const out = new Float32Array(block.kernel.length + block.bias.length + block.outKernel.length + block.outBias.length);
  let at = 0;
  for (const part of [block.kernel, block.bias, block.outKernel, block.outBias]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
