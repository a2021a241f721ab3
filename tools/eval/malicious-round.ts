/**
 * One FedSGD round of a federation as the malicious-server experiments need it, in-process: each
 * client's true gradient on its batch, the round's aggregate through the real secure-aggregation
 * protocol (server/secagg in-process: real keys, masks, Shamir shares, fixed-point quantisation,
 * unmasking), and scoring of reconstructions against the round's examples.
 */
import { flattenParams, oneHot, unflattenParams } from '../../shared/models';
import type { ImageShape, Model } from '../../shared/models/types';
import type { Dataset } from '../../shared/data';
import type { Rng } from '../../shared/random';
import { tf, type Tensor4D } from '../../shared/tensor/tf';
import { scoreReconstruction } from '../../server/metrics';
import { parameterGradients } from '../../server/observer/gradient-matching';
import { runInProcess } from '../../server/secagg/in-process';

export interface ClientBatch {
  images: Float32Array;
  labels: number[];
}

/** `clients` disjoint batches of `batch` examples drawn from the dataset indices in [0, limit). */
export function drawBatches(ds: Dataset, rng: Rng, clients: number, batch: number, limit = ds.labels.length): ClientBatch[] {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const picks = rng.sample(limit, clients * batch);
  return Array.from({ length: clients }, (_, c) => {
    const idx = picks.slice(c * batch, (c + 1) * batch);
    const images = new Float32Array(batch * size);
    idx.forEach((i, k) => images.set(ds.images.subarray(i * size, (i + 1) * size), k * size));
    return { images, labels: idx.map((i) => ds.labels[i]) };
  });
}

/** ∇θ of the mean cross-entropy over the batch, flat in `model.specs` order (a FedSGD update). */
export function clientGradient(model: Model, params: Float32Array, batch: ClientBatch): Float32Array {
  const tensors = unflattenParams(params, model.specs);
  const n = batch.labels.length;
  const flat = tf.tidy(() => {
    const x = tf.tensor4d(batch.images, [n, ...model.inputShape]) as Tensor4D;
    return flattenParams(parameterGradients(model, tensors, x, oneHot(batch.labels, model.numClasses)), model.specs);
  });
  tf.dispose(tensors);
  return flat;
}

export interface SecureMean {
  mean: Float32Array;
  clipped: number;
}

/** The unmasked sum of the updates through the real protocol, divided by the survivors (as server/secagg/stage.ts). */
export async function secureAggregateMean(
  updates: Float32Array[],
  quant: { clippingRange: number; quantizationRange: number },
  seed: number,
): Promise<SecureMean> {
  const participants = updates.map((_, i) => `client-${i}`);
  const inputs = new Map(participants.map((id, i) => [id, updates[i]]));
  const params = { round: 1, participants, threshold: 0.67, neighbours: 0, graphSeed: seed, vectorLength: updates[0].length, ...quant };
  const { result } = await runInProcess({ params, inputs, seed });
  if (result.status !== 'completed' || !result.aggregate) throw new Error(`secure aggregation did not complete: ${result.reason}`);
  const m = result.survivors.length;
  return { mean: Float32Array.from(result.aggregate, (v) => v / m), clipped: result.clippedValues };
}

export function plainMean(updates: Float32Array[]): Float32Array {
  const out = new Float32Array(updates[0].length);
  for (const u of updates) for (let i = 0; i < out.length; i++) out[i] += u[i];
  for (let i = 0; i < out.length; i++) out[i] /= updates.length;
  return out;
}

/** The truth of a round: every client's examples, concatenated. */
export function roundTruth(batches: ClientBatch[]): { images: Float32Array; labels: number[]; count: number } {
  const size = batches[0].images.length / batches[0].labels.length;
  const count = batches.reduce((s, b) => s + b.labels.length, 0);
  const images = new Float32Array(count * size);
  let at = 0;
  for (const b of batches) {
    images.set(b.images, at);
    at += b.images.length;
  }
  return { images, labels: batches.flatMap((b) => b.labels), count };
}

export interface Matching {
  /** Per original: PSNR of its matched reconstruction (0 when none). */
  psnrs: number[];
  /** Per original: index of its matched reconstruction (−1 when none). */
  reconstruction: number[];
}

/** Originals matched to reconstructions by the assignment of minimum total MSE (Hungarian). */
export function matchToOriginals(
  recon: Float32Array,
  reconCount: number,
  truth: { images: Float32Array; count: number },
  shape: ImageShape,
): Matching {
  const psnrs = new Array<number>(truth.count).fill(0);
  const reconstruction = new Array<number>(truth.count).fill(-1);
  if (reconCount === 0) return { psnrs, reconstruction };
  const score = scoreReconstruction(
    { images: recon, labels: new Array<number>(reconCount).fill(0), count: reconCount },
    { images: truth.images, labels: new Array<number>(truth.count).fill(0), count: truth.count },
    shape,
  );
  score.assignment.forEach((j, i) => {
    if (j < 0) return;
    psnrs[j] = score.perImage.psnr[i];
    reconstruction[j] = i;
  });
  return { psnrs, reconstruction };
}

/** PSNRs of the originals matched to reconstructions; unmatched originals count as 0 dB. */
export function matchedPsnrs(
  recon: Float32Array,
  reconCount: number,
  truth: { images: Float32Array; count: number },
  shape: ImageShape,
): number[] {
  return matchToOriginals(recon, reconCount, truth, shape).psnrs;
}

export function countAtLeast(values: number[], threshold: number): number {
  return values.filter((v) => v >= threshold).length;
}

/** A FedAvg update: θ_local − θ_global after `steps` full-batch SGD steps on the client's batch. */
export function clientDelta(model: Model, params: Float32Array, batch: ClientBatch, steps: number, learningRate: number): Float32Array {
  const local = Float32Array.from(params);
  for (let t = 0; t < steps; t++) {
    const g = clientGradient(model, local, batch);
    for (let i = 0; i < local.length; i++) local[i] -= learningRate * g[i];
  }
  for (let i = 0; i < local.length; i++) local[i] -= params[i];
  return local;
}
