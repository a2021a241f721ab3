/**
 * Scoring inversions so the number means something: an evaluation classifier of a different
 * architecture (a convnet) trained only on the held-out split judges whether each inversion looks
 * like its class (attack accuracy), and the nearest training examples measure how close it comes
 * to the class's real data (SSIM/PSNR against own-class examples vs other classes').
 */
import { buildModel, type Model } from '../../shared/models';
import { modelSchema } from '../../shared/models/schema';
import { exampleSize, type Dataset } from '../../shared/data';
import { psnr, ssim } from '../metrics';
import { writeImageGrid } from '../report/png';
import { accuracy, predictLabels, trainClassifier } from './train';
import type { InversionResult } from './mi-face';
import type { ReleaseClassRecord, ReleaseConfig } from './schema';

export interface Evaluator {
  model: Model;
  params: Float32Array;
  /** Accuracy on data it was not trained on (the attacked model's training split). */
  testAccuracy: number;
  trainedOn: number;
}

/** The evaluator's architecture: deliberately unlike the softmax/MLP models MI-FACE attacks. */
export const EVALUATOR_MODEL = modelSchema.parse({
  name: 'convnet',
  channels: [16, 32],
  kernelSize: 5,
  padding: 2,
  activation: 'relu',
  pool: true,
  hidden: [],
});

export function trainEvaluator(heldOut: Dataset, checkOn: Dataset, cfg: ReleaseConfig['evaluator'], seed: number): Evaluator {
  const model = buildModel(EVALUATOR_MODEL, heldOut.shape, heldOut.numClasses);
  const params = trainClassifier(model, heldOut, { ...cfg, seed });
  return { model, params, testAccuracy: accuracy(model, params, checkOn), trainedOn: heldOut.labels.length };
}

function clip01(x: Float32Array): Float32Array {
  return x.map((v) => Math.min(1, Math.max(0, v)));
}

/** Best SSIM and PSNR of `image` over the examples at `indices`, and the index of the best SSIM. */
function nearest(image: Float32Array, train: Dataset, indices: readonly number[]): { ssim: number; psnr: number; index: number } {
  const size = exampleSize(train);
  let best = { ssim: -Infinity, psnr: -Infinity, index: -1 };
  for (const i of indices) {
    const example = train.images.subarray(i * size, (i + 1) * size);
    const s = ssim(image, example, train.shape);
    const p = psnr(image, example);
    if (s > best.ssim) best = { ...best, ssim: s, index: i };
    if (p > best.psnr) best.psnr = p;
  }
  return best;
}

/** At most `limit` indices, evenly spread (deterministic). */
function spread(indices: number[], limit: number): number[] {
  if (indices.length <= limit) return indices;
  return Array.from({ length: limit }, (_, k) => indices[Math.floor((k * indices.length) / limit)]);
}

/**
 * Per-class records; `confidences[i]` is the target model's unmasked p(label) at inversion i. `compareLimit` bounds the own-class and other-class examples compared (SSIM
 * is the costly part); 0 = all.
 */
export function scoreInversions(
  inversions: readonly InversionResult[],
  confidences: readonly number[],
  evaluator: Evaluator,
  train: Dataset,
  compareLimit = 0,
): ReleaseClassRecord[] {
  const size = exampleSize(train);
  const images = new Float32Array(inversions.length * size);
  inversions.forEach((r, i) => images.set(clip01(r.image), i * size));
  const predicted = predictLabels(evaluator.model, evaluator.params, images, inversions.length);
  const limit = compareLimit > 0 ? compareLimit : train.labels.length;
  return inversions.map((r, i) => {
    const own: number[] = [];
    const other: number[] = [];
    train.labels.forEach((l, j) => (l === r.label ? own : other).push(j));
    const image = images.subarray(i * size, (i + 1) * size);
    const o = nearest(image, train, spread(own, limit));
    const x = nearest(image, train, spread(other, limit));
    return {
      label: r.label,
      predicted: predicted[i],
      confidence: confidences[i],
      cost: r.cost,
      iterations: r.iterations,
      queries: r.queries,
      ssimOwn: o.ssim,
      psnrOwn: o.psnr,
      ssimOther: x.ssim,
      psnrOther: x.psnr,
      nearestIndex: o.index,
    };
  });
}

export function classAccuracy(records: readonly ReleaseClassRecord[]): number {
  return records.length === 0 ? 0 : records.filter((r) => r.predicted === r.label).length / records.length;
}

/** PNG: the inversions in class order (top row) above their nearest own-class training examples. */
export function writeInversionGrid(
  file: string,
  inversions: readonly InversionResult[],
  records: readonly ReleaseClassRecord[],
  train: Dataset,
): void {
  const size = exampleSize(train);
  const top = new Float32Array(inversions.length * size);
  const bottom = new Float32Array(inversions.length * size);
  inversions.forEach((r, i) => {
    top.set(clip01(r.image), i * size);
    const n = records[i].nearestIndex;
    if (n >= 0) bottom.set(train.images.subarray(n * size, (n + 1) * size), i * size);
  });
  writeImageGrid(
    file,
    [
      { images: top, count: inversions.length },
      { images: bottom, count: inversions.length },
    ],
    train.shape,
  );
}
