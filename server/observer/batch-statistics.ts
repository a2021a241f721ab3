/**
 * What batch norm's moving statistics in an update reveal: each layer's batch mean and variance.
 * The client moved them by m ← m·momentum + batch·(1 − momentum) (client/train.ts) and sent them in
 * the update's units, so from one step (FedSGD, or FedAvg with one local step) the server solves
 * for the batch's statistics exactly — the `batchnorm-statistics` capability (threat model E).
 */
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import { resolveLayers, splitFlat } from '../../shared/models';

/** One batch-norm layer's statistics over the client's batch (per channel; variance biased, as the forward pass uses it). */
export interface ObservedBatchStatistics {
  /** Index into the model's params of the layer's moving mean (identifies the layer). */
  movingMean: number;
  mean: Float32Array;
  variance: Float32Array;
}

/** The statistics behind a one-step update, or null when they cannot be solved for (several local steps, no batch norm). */
export function observedBatchStatistics(observed: ObservedUpdate, payload: ServerPayload): ObservedBatchStatistics[] | null {
  const t = payload.training;
  if (observed.kind === 'weight-delta' && (t.localSteps !== 1 || (t.localEpochs ?? 0) > 0)) return null;
  // A momentum of 1 never moves the statistics: nothing to solve for.
  const layers = resolveLayers(payload.model).filter((l) => l.op === 'batchNorm' && (l.config as { momentum: number }).momentum < 1);
  if (layers.length === 0) return null;
  const before = splitFlat(payload.params, payload.model.params);
  const update = splitFlat(observed.update, payload.model.params);
  // The state value after the step: fedavg sends new − old, fedsgd (old − new)/lr.
  const after = (i: number) =>
    before[i].map((v, k) => (observed.kind === 'gradient' ? v - t.learningRate * update[i][k] : v + update[i][k]));
  const examples = observed.numExamples || t.batchSize;
  return layers.map((layer) => {
    const momentum = (layer.config as { momentum: number }).momentum;
    const [meanIndex, varianceIndex] = layer.params.slice(layer.params.length - 2);
    const solve = (i: number) => {
      const next = after(i);
      return before[i].map((old, k) => (next[k] - momentum * old) / (1 - momentum));
    };
    const [h, w] = layer.inputShapes[0].length === 3 ? layer.inputShapes[0] : [1, 1];
    const count = examples * h * w;
    const unbiased = solve(varianceIndex);
    return { movingMean: meanIndex, mean: solve(meanIndex), variance: unbiased.map((v) => (count > 1 ? (v * (count - 1)) / count : v)) };
  });
}
