/**
 * From a dense layer's weight gradient to images: rebuild the mixtures matrix (one row per unit),
 * unmix it (ica.ts), then give each source its sign, offset and scale:
 *  - with the bias gradient: exactly. The unit combination u that yields a source yields u·G for the
 *    uncentred image and u·∇b for its "bias pixel"; for a single example x that is α·x and α, so
 *    x = u·G / u·∇b (the Phong et al. identity, applied to unmixed combinations);
 *  - without it: the paper's min-max to [0, 1], the sign chosen by correlation with the dataset's
 *    mean image when a data prior is granted, else by skewness (strokes are rare and bright).
 */
import { Rng } from '../../../../shared/random';
import { centreRows, fastIca, unmixWithPriors, whiten } from './ica';
import { matrix, multiply, type Matrix } from './linalg';
import { refineAndSelect, spanOf } from './refine';

export type UnmixingMethod = 'fastica' | 'priors';

export interface CocktailPartyOptions {
  /** Examples behind the gradient (Σ numExamples of an aggregate): the number of sources. */
  examples: number;
  /** Shape of one input [h, w, c]; h·w·c must equal the layer's input width. */
  shape: readonly [number, number, number];
  /** Output width of the dense layer (its unit count). */
  units: number;
  /** 'in-out': the gradient is laid out [inputs, units] (tfjs kernels); 'out-in': [units, inputs]. */
  layout?: 'in-out' | 'out-in';
  /** The layer's bias gradient (length units): fixes each image's sign, offset and scale. */
  biasGradient?: ArrayLike<number>;
  /** 'priors' (default): the paper's decorrelation + total-variation objective; 'fastica': plain FastICA. */
  method?: UnmixingMethod;
  /** The dataset's mean image (a granted data prior): used to pick signs without a bias gradient. */
  dataMean?: ArrayLike<number>;
  /** Refine each image towards a binary image in [0, 1] (a data prior; needs biasGradient). */
  binaryPrior?: boolean;
  /** With binaryPrior: also start from every unit's row over its bias gradient (default true). */
  unitStarts?: boolean;
  /** With binaryPrior: refinement steps per start (default 300; 0 = only select among the starts). */
  refineIterations?: number;
  /** Paper-objective knobs (defaults: the paper's FC-2 settings, fewer iterations). */
  decor?: number;
  temperature?: number;
  tv?: number;
  iterations?: number;
  learningRate?: number;
  seed?: number;
}

export interface CocktailPartyResult {
  /** examples images NHWC flat in [0, 1]; fewer when the gradient's rank is lower. */
  images: Float32Array;
  count: number;
  /** Numerical rank of the mixtures: below `examples` means some inputs cannot be separated. */
  rank: number;
  /** How signs and scales were resolved. */
  scaling: 'bias' | 'min-max';
}

/** Unmixes a dense layer's weight gradient (or an aggregate of them) into the inputs behind it. */
export function cocktailParty(gradientMatrix: ArrayLike<number>, opts: CocktailPartyOptions): CocktailPartyResult {
  const mixtures = mixturesOf(gradientMatrix, opts);
  const uncentred = matrix(mixtures.rows, mixtures.cols, Float64Array.from(mixtures.data));
  centreRows(mixtures);
  const white = whiten(mixtures, opts.examples);
  const k = white.signals.rows;
  const unmixing =
    (opts.method ?? 'priors') === 'fastica'
      ? fastIca(white.signals, { rng: new Rng(opts.seed ?? 0) })
      : unmixWithPriors(white.signals, {
          height: opts.shape[0],
          width: opts.shape[1],
          channels: opts.shape[2],
          decor: opts.decor ?? 1.47,
          temperature: opts.temperature ?? 12.4,
          tv: opts.tv ?? 3.1,
          iterations: opts.iterations ?? 2000,
          learningRate: opts.learningRate ?? 1e-2,
        });
  // Unit combinations behind each source: rows of W·P, with P the whitening projection.
  const combos = multiply(unmixing, white.projection);
  const images = opts.biasGradient
    ? imagesFromBias(combos, uncentred, Float64Array.from(opts.biasGradient), opts)
    : imagesByMinMax(multiply(unmixing, white.signals), opts.dataMean);
  return { images: toFloat32(images), count: k, rank: white.rank, scaling: opts.biasGradient ? 'bias' : 'min-max' };
}

function mixturesOf(gradient: ArrayLike<number>, o: CocktailPartyOptions): Matrix {
  const inputs = o.shape[0] * o.shape[1] * o.shape[2];
  if (!Number.isInteger(o.examples) || o.examples < 1)
    throw new Error(`cocktail-party: examples must be a positive integer, got ${o.examples}`);
  if (gradient.length !== inputs * o.units) {
    throw new Error(
      `cocktail-party: the gradient has ${gradient.length} values; a dense layer ${inputs}→${o.units} has ${inputs * o.units}`,
    );
  }
  if (o.biasGradient && o.biasGradient.length !== o.units) {
    throw new Error(`cocktail-party: biasGradient has ${o.biasGradient.length} values for ${o.units} units`);
  }
  if (o.binaryPrior && !o.biasGradient)
    throw new Error('cocktail-party: binaryPrior needs biasGradient (it fixes the scale the prior refers to)');
  if (o.examples > Math.min(o.units, inputs)) {
    throw new Error(
      `cocktail-party: ${o.examples} examples cannot be separated from ${o.units} mixtures of ${inputs} pixels (at most ${Math.min(o.units, inputs)})`,
    );
  }
  const m = matrix(o.units, inputs);
  const outIn = o.layout === 'out-in';
  for (let u = 0; u < o.units; u++) {
    for (let p = 0; p < inputs; p++) m.data[u * inputs + p] = outIn ? gradient[u * inputs + p] : gradient[p * o.units + u];
  }
  return m;
}

function imagesFromBias(combos: Matrix, uncentred: Matrix, bias: Float64Array, o: CocktailPartyOptions): Matrix {
  const raw = multiply(combos, uncentred);
  const d = raw.cols;
  const k = combos.rows;
  const starts: Float64Array[] = [];
  for (let i = 0; i < k; i++) {
    let beta = 0;
    for (let u = 0; u < combos.cols; u++) beta += combos.data[i * combos.cols + u] * bias[u];
    starts.push(raw.data.slice(i * d, (i + 1) * d).map((v) => v / (beta || 1e-30)));
  }
  let images = starts;
  if (o.binaryPrior && o.unitStarts !== false) {
    // Each unit's own row over its bias gradient is a mixture of only the examples that activate it: good extra starts.
    const largest = bias.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let u = 0; u < uncentred.rows; u++) {
      if (Math.abs(bias[u]) > 1e-3 * largest) starts.push(uncentred.data.slice(u * d, (u + 1) * d).map((v) => v / bias[u]));
    }
  }
  if (o.binaryPrior) {
    images = refineAndSelect(starts, spanOf(uncentred, bias, k), k, {
      iterations: o.refineIterations ?? 300,
      learningRate: 0.05,
      outOfRange: 10,
    });
  }
  const out = matrix(k, d);
  images.forEach((image, i) => {
    for (let j = 0; j < d; j++) out.data[i * d + j] = clamp01(image[j]);
  });
  return out;
}

function imagesByMinMax(sources: Matrix, dataMean?: ArrayLike<number>): Matrix {
  const d = sources.cols;
  for (let i = 0; i < sources.rows; i++) {
    const s = sources.data.subarray(i * d, (i + 1) * d);
    if (signOf(s, dataMean) < 0) for (let j = 0; j < d; j++) s[j] = -s[j];
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of s) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (let j = 0; j < d; j++) s[j] = hi > lo ? (s[j] - lo) / (hi - lo) : 0;
  }
  return sources;
}

/** +1 or −1: the orientation in which the source looks like an image of the dataset. */
function signOf(s: ArrayLike<number>, dataMean?: ArrayLike<number>): number {
  let mean = 0;
  for (let j = 0; j < s.length; j++) mean += s[j] / s.length;
  if (dataMean) {
    let dot = 0;
    for (let j = 0; j < s.length; j++) dot += (s[j] - mean) * dataMean[j];
    return dot >= 0 ? 1 : -1;
  }
  let third = 0;
  for (let j = 0; j < s.length; j++) third += (s[j] - mean) ** 3;
  return third >= 0 ? 1 : -1;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

function toFloat32(m: Matrix): Float32Array {
  return Float32Array.from(m.data);
}
