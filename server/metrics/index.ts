/** Reconstruction quality: MSE, PSNR, SSIM, optimal batch assignment, label accuracy, scoring. */
export { mse, psnr, psnrFromMse, PSNR_CAP_DB } from './image';
export { ssim, SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 } from './ssim';
export { minCostAssignment } from './assignment';
export { labelAccuracy } from './labels';
export { scoreReconstruction, pairScores, type ImageBatch, type ReconstructionScore } from './score';
