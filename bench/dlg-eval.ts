/**
 * The DLG objective evaluation benchmark, set up as in ../shared/peers/dlg_torch.py: lenet-zhu,
 * every weight and bias U(−0.5, 0.5), a random [0,1] image with label seed % classes, dummy data
 * and label logits N(0, 1). One evaluation = the objective's value and its gradient w.r.t. the
 * dummy data and dummy label, each followed by a small gradient step (as the torch script does) so
 * that no evaluation repeats the previous one.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { Rng } from '../shared/random';
import { lenetZhuDefinition } from '../shared/models/lenet-zhu';
import { modelFromDefinition, oneHot, unflattenParams, type ImageShape, type Model } from '../shared/models';
import { parameterGradients, squaredGradientDistance } from '../server/observer/gradient-matching';
import { cpuMs } from './kernel-profile';

export interface DlgEvalSetup {
  model: Model;
  params: Tensor[];
  trueGrads: Tensor[];
  /** Dummy image and label logits (variables updated in place by each step). */
  dummyX: tf.Variable;
  dummyY: tf.Variable;
  dispose(): void;
}

export function setupDlgEval(shape: ImageShape, classes: number, seed = 0): DlgEvalSetup {
  const rng = new Rng(seed);
  const model = modelFromDefinition(lenetZhuDefinition(shape, classes, { kind: 'uniform', range: 0.5 }));
  const params = unflattenParams(model.initParams(rng.fork('params')), model.specs);
  const size = shape[0] * shape[1] * shape[2];
  const x = tf.tensor(rng.fork('image').fillUniform(new Float32Array(size), 0, 1), [1, ...shape]) as Tensor4D;
  const target = oneHot([seed % classes], classes);
  const trueGrads = tf.tidy(() => parameterGradients(model, params, x, target));
  x.dispose();
  target.dispose();
  const dummyX = tf.variable(tf.tensor(rng.fork('dummy-x').fillNormal(new Float32Array(size)), [1, ...shape]));
  const dummyY = tf.variable(tf.tensor(rng.fork('dummy-y').fillNormal(new Float32Array(classes)), [1, classes]));
  return {
    model,
    params,
    trueGrads,
    dummyX,
    dummyY,
    dispose() {
      tf.dispose([...params, ...trueGrads, dummyX, dummyY]);
    },
  };
}

/** DLG objective value and its gradient w.r.t. dummy data and label logits. */
export function dlgValueAndGrads(
  s: Pick<DlgEvalSetup, 'model' | 'params' | 'trueGrads'>,
  x: Tensor,
  y: Tensor,
): { value: Tensor; grads: Tensor[] } {
  const f = (dx: Tensor, dy: Tensor): Tensor =>
    squaredGradientDistance(parameterGradients(s.model, s.params, dx as Tensor4D, tf.softmax(dy as Tensor2D) as Tensor2D), s.trueGrads);
  return tf.valueAndGrads(f)([x, y]);
}

/** One evaluation plus a 0.1-step on the dummies; returns the objective value. */
export function dlgEvalStep(s: DlgEvalSetup): number {
  const value = tf.tidy(() => {
    const { value, grads } = dlgValueAndGrads(s, s.dummyX, s.dummyY);
    s.dummyX.assign(tf.sub(s.dummyX, tf.mul(grads[0], 0.1)));
    s.dummyY.assign(tf.sub(s.dummyY, tf.mul(grads[1], 0.1)));
    return value;
  });
  const v = value.dataSync()[0];
  value.dispose();
  return v;
}

export interface TimingResult {
  /** Median over runs of the wall-clock ms per evaluation. */
  medianMs: number;
  /** Median over runs of this process's CPU ms per evaluation (less disturbed by other load). */
  medianCpuMs: number;
  runsMs: number[];
  runsCpuMs: number[];
}

import { median } from '../server/metrics/median';

export { median };

/** Times `runs` batches of `evals` evaluations after `warmup` untimed ones. */
export function timeDlgEval(shape: ImageShape, classes: number, opts: { warmup: number; runs: number; evals: number }): TimingResult {
  const s = setupDlgEval(shape, classes);
  try {
    for (let i = 0; i < opts.warmup; i++) dlgEvalStep(s);
    const runsMs: number[] = [];
    const runsCpuMs: number[] = [];
    for (let r = 0; r < opts.runs; r++) {
      const t0 = performance.now();
      const c0 = cpuMs();
      for (let i = 0; i < opts.evals; i++) dlgEvalStep(s);
      runsCpuMs.push((cpuMs() - c0) / opts.evals);
      runsMs.push((performance.now() - t0) / opts.evals);
    }
    return { medianMs: median(runsMs), medianCpuMs: median(runsCpuMs), runsMs, runsCpuMs };
  } finally {
    s.dispose();
  }
}
