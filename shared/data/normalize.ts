/**
 * Per-channel input normalisation, `data.normalize: {mean, std}`: the model sees
 * (x − mean[c]) / std[c] while datasets, attacks and metrics stay in pixel space [0, 1]. The
 * array and tensor versions round like float32 tfjs does (one rounding per operation), so they
 * agree bit for bit; the tensor version is differentiable (attacks optimise pixels through it).
 */
import { z } from 'zod';
import { tf, type Tensor4D } from '../tensor/tf';
import { DataError } from './errors';

export const normalizeSchema = z.strictObject({
  /** Per-channel means (one value applies to every channel). */
  mean: z.array(z.number()).min(1),
  /** Per-channel standard deviations, positive. */
  std: z.array(z.number().positive()).min(1),
});
export type Normalization = z.infer<typeof normalizeSchema>;

/** mean and std expanded to `channels` float32 values each; a DataError when the lengths do not fit. */
export function channelStats(n: Normalization, channels: number): { mean: Float32Array; std: Float32Array } {
  const expand = (values: number[], what: string): Float32Array => {
    if (values.length === channels) return Float32Array.from(values);
    if (values.length === 1) return new Float32Array(channels).fill(values[0]);
    throw new DataError(
      `data.normalize.${what} has ${values.length} values; the images have ${channels} channel(s) (give ${channels === 1 ? '1' : `${channels} or 1`})`,
    );
  };
  const stats = { mean: expand(n.mean, 'mean'), std: expand(n.std, 'std') };
  if (stats.std.some((s) => !(s > 0))) throw new DataError('data.normalize.std must be positive');
  return stats;
}

function perChannel(images: Float32Array, channels: number, f: (x: number, c: number) => number): Float32Array {
  if (images.length % channels !== 0) {
    throw new DataError(`normalize: ${images.length} values are not a whole number of ${channels}-channel pixels`);
  }
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = f(images[i], i % channels);
  return out;
}

/** (x − mean[c]) / std[c] for NHWC (channels-last) values; a new array. */
export function normalizePixels(images: Float32Array, channels: number, n: Normalization): Float32Array {
  const { mean, std } = channelStats(n, channels);
  return perChannel(images, channels, (x, c) => Math.fround(x - mean[c]) / std[c]);
}

/** x · std[c] + mean[c]: back to pixel space; a new array. */
export function denormalizePixels(values: Float32Array, channels: number, n: Normalization): Float32Array {
  const { mean, std } = channelStats(n, channels);
  return perChannel(values, channels, (x, c) => Math.fround(x * std[c]) + mean[c]);
}

/** normalizePixels on an NHWC tensor, differentiable. */
export function normalizeTensor(images: Tensor4D, n: Normalization): Tensor4D {
  const { mean, std } = channelStats(n, images.shape[3]);
  return tf.tidy(() => tf.div(tf.sub(images, tf.tensor1d(mean)), tf.tensor1d(std)));
}

/** denormalizePixels on an NHWC tensor, differentiable. */
export function denormalizeTensor(values: Tensor4D, n: Normalization): Tensor4D {
  const { mean, std } = channelStats(n, values.shape[3]);
  return tf.tidy(() => tf.add(tf.mul(values, tf.tensor1d(std)), tf.tensor1d(mean)));
}
