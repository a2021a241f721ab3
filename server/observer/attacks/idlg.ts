/**
 * Improved DLG (Zhao, Mopuri, Bilen 2020): read the label off the logit layer's weight gradient,
 * then run DLG's L-BFGS on the images only, with that one-hot label fixed, stopping early once the
 * objective is below 1e-6 (the paper's code; `attack.stopBelow` overrides it).
 *
 * Label rule, one example, softmax cross-entropy: ∂L/∂W[:, j] = (p_j − y_j)·h, with h the logit
 * layer's input. h ≥ 0 after a sigmoid or ReLU, so the true class's column (p_j − 1 < 0) sums
 * negative and every other column non-negative: the label is the argmin of the column sums (tfjs
 * dense kernels are [in, out], so class j's weights are column j). For a batch the count rule of
 * label-inference.ts provides the label multiset instead.
 */
import { modelFromDefinition } from '../../../shared/models/definition';
import { splitFlat } from '../../../shared/models/params';
import { tf } from '../../../shared/tensor/tf';
import { initBackend } from '../../../shared/tensor/backend';
import { attackedSlots, lbfgsGradientMatching, observedGradient } from './dlg';
import { inferLabels } from './label-inference';
import type { Attack, AttackInput, AttackDefinition } from './types';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';
import { logitLayerProblem } from './model-problems';

export const IDLG_STOP_BELOW = 1e-6;

/** Per-class sums of a dense kernel's gradient, laid out [in, classes]. */
export function classColumnSums(kernelGrad: ArrayLike<number>, numClasses: number): Float64Array {
  if (kernelGrad.length % numClasses !== 0) {
    throw new Error(`idlg: a logit kernel gradient of ${kernelGrad.length} values is not [in, ${numClasses}]`);
  }
  const sums = new Float64Array(numClasses);
  for (let i = 0; i < kernelGrad.length; i++) sums[i % numClasses] += kernelGrad[i];
  return sums;
}

/** iDLG's rule: the class whose weight-gradient column sums lowest (the only negative one). */
export function idlgLabel(kernelGrad: ArrayLike<number>, numClasses: number): number {
  const sums = classColumnSums(kernelGrad, numClasses);
  let best = 0;
  for (let j = 1; j < numClasses; j++) if (sums[j] < sums[best]) best = j;
  return best;
}

/** Labels behind the update: the sign rule for one example, the count rule for a batch. */
export function idlgLabels(input: AttackInput): number[] {
  const { numClasses } = input.payload.model;
  const model = modelFromDefinition(input.payload.model);
  const n = attackedSlots(input, 'idlg').attackedSlots;
  const gradient = observedGradient(input);
  if (n === 1) {
    const kernel = splitFlat(gradient, model.specs)[model.logitLayer.kernel];
    return [idlgLabel(kernel, numClasses)];
  }
  const params = splitFlat(input.payload.params, model.specs).map((p, i) => tf.tensor(p, model.specs[i].shape, 'float32'));
  try {
    return inferLabels({ model, params, gradient, count: n, seed: input.seed });
  } finally {
    tf.dispose(params);
  }
}

export const idlg: Attack = async (input, onProgress) => {
  await initBackend();
  const labels = idlgLabels(input);
  return lbfgsGradientMatching(input, { attackName: 'idlg', labels, stopBelow: input.settings.stopBelow ?? IDLG_STOP_BELOW }, onProgress);
};

/** Settings: the common scenario fields (settings.ts). */
export const idlgSettings = builtinAttackEntry('idlg');

export const idlgAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'idlg',
  settings: idlgSettings,
  run: idlg,
  requires: () => ['updates', 'architecture', 'hyperparameters'],
  modelProblem: (model) => logitLayerProblem(model, 'idlg'),
};
