/**
 * Scoring a batch reconstruction against the client's true batch: each reconstruction is paired
 * with one original by the assignment of minimum total MSE (reconstructions come out in no
 * particular order), then MSE, PSNR and SSIM are averaged over the pairs; labels are compared as
 * multisets. The observer calls this only after the attack has finished.
 */
import type { ImageShape } from '../../shared/models/types';
import { minCostAssignment } from './assignment';
import { mse, psnrFromMse } from './image';
import { labelAccuracy } from './labels';
import { ssim } from './ssim';

export interface ImageBatch {
  /** NHWC flat, [count, h, w, c], values in [0, 1]. */
  images: Float32Array;
  labels: ArrayLike<number>;
  count: number;
}

export interface ReconstructionScore {
  /** Mean over matched pairs of the per-image MSE. */
  mse: number;
  /** Mean over matched pairs of the per-image PSNR (each capped at PSNR_CAP_DB). */
  psnr: number;
  /** Mean over matched pairs of the per-image SSIM. */
  ssim: number;
  /** Recovered labels that match true labels as a multiset, over the true batch size. */
  labelAccuracy: number;
  /** assignment[i] = index of the original matched to reconstruction i; −1 if none. */
  assignment: number[];
  /** Per matched reconstruction (same order as the reconstructions; NaN when unmatched). */
  perImage: { mse: number[]; psnr: number[]; ssim: number[] };
}

function checkBatch(what: string, batch: ImageBatch, shape: ImageShape): void {
  const size = shape[0] * shape[1] * shape[2];
  if (!Number.isInteger(batch.count) || batch.count < 1) throw new Error(`${what}.count must be a positive integer, got ${batch.count}`);
  if (batch.images.length !== batch.count * size) {
    throw new Error(
      `${what}.images has ${batch.images.length} values; ${batch.count} images of [${shape.join(', ')}] need ${batch.count * size}`,
    );
  }
  if (batch.labels.length !== batch.count) throw new Error(`${what}.labels has ${batch.labels.length} entries for ${batch.count} images`);
}

/**
 * With more reconstructions than originals the surplus ones stay unmatched (assignment −1); with
 * fewer, the unmatched originals do not enter the image metrics but still count against
 * labelAccuracy.
 */
export function scoreReconstruction(recon: ImageBatch, truth: ImageBatch, shape: ImageShape): ReconstructionScore {
  checkBatch('reconstruction', recon, shape);
  checkBatch('truth', truth, shape);
  const size = shape[0] * shape[1] * shape[2];
  const image = (b: ImageBatch, i: number) => b.images.subarray(i * size, (i + 1) * size);

  const cost = Array.from({ length: recon.count }, (_, i) =>
    Array.from({ length: truth.count }, (_, j) => mse(image(recon, i), image(truth, j))),
  );
  const assignment = minCostAssignment(cost);

  const perImage = { mse: [] as number[], psnr: [] as number[], ssim: [] as number[] };
  let sumMse = 0;
  let sumPsnr = 0;
  let sumSsim = 0;
  let pairs = 0;
  assignment.forEach((j, i) => {
    if (j < 0) {
      perImage.mse.push(Number.NaN);
      perImage.psnr.push(Number.NaN);
      perImage.ssim.push(Number.NaN);
      return;
    }
    const e = cost[i][j];
    const p = psnrFromMse(e);
    const s = ssim(image(recon, i), image(truth, j), shape);
    perImage.mse.push(e);
    perImage.psnr.push(p);
    perImage.ssim.push(s);
    sumMse += e;
    sumPsnr += p;
    sumSsim += s;
    pairs += 1;
  });
  return {
    mse: sumMse / pairs,
    psnr: sumPsnr / pairs,
    ssim: sumSsim / pairs,
    labelAccuracy: labelAccuracy(recon.labels, truth.labels),
    assignment,
    perImage,
  };
}

/** One entry per reconstruction, in reconstruction order: its matched original (−1: none) and that pair's figures (NaN when unmatched). */
export function pairScores(score: ReconstructionScore): { original: number; mse: number; psnr: number; ssim: number }[] {
  return score.assignment.map((original, i) => ({
    original,
    mse: score.perImage.mse[i],
    psnr: score.perImage.psnr[i],
    ssim: score.perImage.ssim[i],
  }));
}
