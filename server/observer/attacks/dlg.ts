/**
 * Deep Leakage from Gradients (Zhu, Liu, Han 2019), as in the paper's code: dummy images ~ N(0,1)
 * and dummy label logits ~ N(0,1) (softmaxed into a soft label) are optimised jointly by L-BFGS
 * (lr 1, history 100, 20 iterations / 25 evaluations per step, no line search) so that the
 * gradient they produce matches the observed one in squared L2 distance. `attack.iterations` counts
 * L-BFGS steps (the paper: 300).
 *
 * The L-BFGS driver below is shared with iDLG (idlg.ts), which fixes the labels and optimises
 * the images only.
 *
 * fedavg updates: a weight delta θ_local − θ_global after S local SGD steps at learning rate η is
 * approximated as −η·S·ḡ, so the observed "gradient" is −delta / (η·S) and the dummy batch is every
 * example the client used (min(numExamples, S·batchSize)). That is exact for one step and a crude
 * average otherwise; inverting-gradients unrolls the local steps properly.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../../../shared/tensor/tf';
import { initBackend } from '../../../shared/tensor/backend';
import type { Model } from '../../../shared/models';
import { modelFromDefinition } from '../../../shared/models/definition';
import { splitFlat } from '../../../shared/models/params';
import { Rng } from '../../../shared/random';
import { parameterGradients, squaredGradientDistance } from '../gradient-matching';
import { Lbfgs } from '../optim/lbfgs';
import type { Attack, AttackInput, AttackOutput, AttackProgress, AttackDefinition } from './types';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';

/** Largest dummy batch; beyond it one run would take hours and recover nothing recognisable. */
export const MAX_DUMMY_BATCH = 64;

/** Clients behind the update: its contributors for an aggregate view, else one. */
export function contributorCount(input: AttackInput): number {
  return input.observed.view === 'aggregate' ? Math.max(1, input.observed.contributors?.length ?? 1) : 1;
}

/** Local SGD steps behind a fedavg update (per client: an aggregate's example count is split evenly). */
export function localStepCount(input: AttackInput): number {
  const t = input.payload.training;
  if (input.observed.kind === 'gradient') return 1;
  const perClient = Math.max(1, input.observed.numExamples) / contributorCount(input);
  if (t.localEpochs > 0) return t.localEpochs * Math.ceil(perClient / t.batchSize);
  return t.localSteps;
}

/**
 * Examples behind the update: the dummy batch size. An aggregate of n FedSGD updates of batch b
 * (equal weights) is the gradient of one batch of n·b examples, so an aggregate view counts every
 * contributor's examples (Σ numExamples, capped by what their local steps can use).
 */
export function victimBatchSize(input: AttackInput): number {
  const t = input.payload.training;
  const declared = input.observed.numExamples;
  if (!Number.isInteger(declared) || declared < 0)
    throw new Error(`attack input: numExamples must be a non-negative integer, got ${declared}`);
  const perClientUse = input.observed.kind === 'gradient' ? t.batchSize : localStepCount(input) * t.batchSize;
  const used = perClientUse * contributorCount(input);
  return declared > 0 ? Math.min(declared, used) : used;
}

/** How many of the examples behind an update one attack reconstructs. */
export interface AttackedSlots {
  /** Examples behind the update. */
  batchSize: number;
  /** Dummy slots actually optimised. */
  attackedSlots: number;
  /** True when attackedSlots < batchSize (a cap applied); recorded, never silent. */
  truncated: boolean;
}

/**
 * The dummy batch for an update: all its examples, or for an aggregate view beyond `max` the first
 * `max` slots (recorded as truncated). A single client's update beyond `max` is refused.
 */
export function attackedSlots(input: AttackInput, attackName: string, max = MAX_DUMMY_BATCH): AttackedSlots {
  const n = victimBatchSize(input);
  if (n <= max) return { batchSize: n, attackedSlots: n, truncated: false };
  if (input.observed.view === 'aggregate') return { batchSize: n, attackedSlots: max, truncated: true };
  throw new Error(
    `${attackName}: the update comes from ${n} examples; L-BFGS gradient matching reconstructs at most ${max} at once ` +
      '(lower federation.batchSize, localSteps or localEpochs, or use inverting-gradients)',
  );
}

/**
 * The gradient the attack matches, flat in `model.specs` order: the update itself for fedsgd,
 * −delta / (learningRate · localSteps) for fedavg.
 */
export function observedGradient(input: AttackInput): Float32Array {
  if (input.observed.kind === 'gradient') return input.observed.update;
  const scale = -1 / (input.payload.training.learningRate * localStepCount(input));
  const out = new Float32Array(input.observed.update.length);
  for (let i = 0; i < out.length; i++) out[i] = input.observed.update[i] * scale;
  return out;
}

export interface LbfgsMatchingOptions {
  /** Fixed labels (iDLG); when absent the soft labels are optimised too (DLG). */
  labels?: readonly number[];
  /** Stop once an evaluated objective falls below this. */
  stopBelow?: number;
  /** Name for error messages. */
  attackName: string;
}

function checkInput(input: AttackInput, model: Model, name: string): void {
  const total = model.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (input.payload.params.length !== total) {
    throw new Error(`${name}: globalParams has ${input.payload.params.length} values, model ${model.name} needs ${total}`);
  }
  if (input.observed.update.length !== total)
    throw new Error(`${name}: update has ${input.observed.update.length} values, model ${model.name} needs ${total}`);
  if (input.observed.kind === 'weight-delta' && !(input.payload.training.learningRate > 0)) {
    throw new Error(`${name}: a fedavg weight delta needs training.learningRate > 0, got ${input.payload.training.learningRate}`);
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The dummy batch size, checked against what L-BFGS matching attempts and against fixed labels. */
function dummyBatchSize(input: AttackInput, options: LbfgsMatchingOptions): number {
  const n = attackedSlots(input, options.attackName).attackedSlots;
  if (options.labels && options.labels.length !== n)
    throw new Error(`${options.attackName}: ${options.labels.length} fixed labels for a batch of ${n}`);
  return n;
}

/**
 * The matching objective over one flat vector [images; label logits] (or [images] with fixed
 * labels): each evaluation uploads it, computes the objective and its gradient by double backprop in
 * one tf.tidy, and downloads one concatenated vector. Holds its constant tensors until dispose().
 */
class MatchingObjective {
  readonly n: number;
  readonly imageSize: number;
  readonly labelSize: number;
  readonly numClasses: number;
  evaluations = 0;
  private readonly model: Model;
  private readonly params: Tensor[];
  private readonly target: Tensor[];
  private readonly fixedTargets: Tensor2D | null;
  private readonly shape: [number, number, number, number];

  constructor(input: AttackInput, options: LbfgsMatchingOptions) {
    const { inputShape, numClasses } = input.payload.model;
    this.model = modelFromDefinition(input.payload.model);
    checkInput(input, this.model, options.attackName);
    this.n = dummyBatchSize(input, options);
    this.numClasses = numClasses;
    this.imageSize = this.n * inputShape[0] * inputShape[1] * inputShape[2];
    this.labelSize = options.labels ? 0 : this.n * numClasses;
    const specs = this.model.specs;
    this.params = splitFlat(input.payload.params, specs).map((p, i) => tf.tensor(p, specs[i].shape, 'float32'));
    this.target = splitFlat(observedGradient(input), specs).map((g, i) => tf.tensor(g, specs[i].shape, 'float32'));
    const labels = options.labels;
    this.fixedTargets = labels
      ? tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), numClasses).toFloat() as Tensor2D)
      : null;
    this.shape = [this.n, ...inputShape];
  }

  private objective(data: Tensor4D, labelLogits: Tensor2D | null): Tensor {
    const targets = this.fixedTargets ?? tf.softmax(labelLogits as Tensor2D);
    return squaredGradientDistance(parameterGradients(this.model, this.params, data, targets), this.target);
  }

  readonly evaluate = (x: Float64Array): { loss: number; grad: Float32Array } => {
    this.evaluations += 1;
    const packed = tf.tidy(() => {
      const xs = Float32Array.from(x);
      const data = tf.tensor4d(xs.subarray(0, this.imageSize), this.shape);
      const variables: Tensor[] = [data];
      if (this.labelSize > 0) variables.push(tf.tensor2d(xs.subarray(this.imageSize), [this.n, this.numClasses]));
      const { value, grads } = tf.valueAndGrads((...v: Tensor[]) => this.objective(v[0] as Tensor4D, (v[1] as Tensor2D) ?? null))(
        variables,
      );
      return tf.concat([tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
    });
    const values = packed.dataSync() as Float32Array;
    packed.dispose();
    return { loss: values[0], grad: values.subarray(1) };
  };

  dispose(): void {
    tf.dispose([...this.params, ...this.target]);
    if (this.fixedTargets) this.fixedTargets.dispose();
  }
}

/** Live displays get the current guess at most this often (a copy per preview; the attack itself ignores time). */
const PREVIEW_EVERY_MS = 400;

/** Throttled previews of the dummy images, clamped to pixel range. */
function previewer(imageSize: number): (x: Float64Array) => Float32Array | undefined {
  let last = -Infinity;
  return (x) => {
    const now = Date.now();
    if (now - last < PREVIEW_EVERY_MS) return undefined;
    last = now;
    const images = new Float32Array(imageSize);
    for (let i = 0; i < imageSize; i++) images[i] = Number.isNaN(x[i]) ? 0 : Math.min(1, Math.max(0, x[i]));
    return images;
  };
}

interface RunResult {
  x: Float64Array;
  objective: number;
  steps: number;
}

/** One L-BFGS run from a fresh dummy; returns where it stopped and its objective there. */
async function lbfgsRun(
  f: MatchingObjective,
  input: AttackInput,
  options: LbfgsMatchingOptions,
  at: { rng: Rng; stepOffset: number; restart: number },
  onProgress?: (p: AttackProgress) => void,
): Promise<RunResult> {
  const { rng, stepOffset, restart } = at;
  const previewOf = previewer(f.imageSize);
  const x0 = new Float32Array(f.imageSize + f.labelSize);
  rng.fork('dummy-data').fillNormal(x0.subarray(0, f.imageSize));
  if (f.labelSize > 0) rng.fork('dummy-label').fillNormal(x0.subarray(f.imageSize));
  const opt = new Lbfgs(x0, {
    lr: input.settings.learningRate ?? 1,
    historySize: 100,
    maxIter: 20,
    maxEval: 25,
    lineSearch: input.settings.lineSearch,
  });
  let steps = 0;
  for (let k = 0; k < input.settings.iterations; k++) {
    const before = Float64Array.from(opt.x);
    opt.step(f.evaluate);
    steps += 1;
    const objectiveNow = opt.lastLoss;
    if (onProgress) {
      const preview = previewOf(opt.x);
      // The total counts every restart's steps, so progress never runs past it.
      const total = input.settings.iterations * input.settings.restarts;
      onProgress({
        iteration: stepOffset + steps,
        objective: objectiveNow,
        total,
        restart,
        restarts: input.settings.restarts,
        ...(preview ? { preview } : {}),
      });
    }
    if (!Number.isFinite(objectiveNow)) break;
    if (options.stopBelow !== undefined && objectiveNow < options.stopBelow) break;
    // A step that leaves x unchanged would repeat identically forever (the objective is deterministic).
    if (opt.x.every((v, i) => v === before[i])) break;
    await yieldToEventLoop();
  }
  // The last iteration of a step moves without evaluating; report the objective where we stop.
  return { x: opt.x, objective: f.evaluate(opt.x).loss, steps };
}

/**
 * Gradient matching by L-BFGS with PyTorch's semantics, best of `attack.restarts` runs. Restart 0
 * uses the attack seed itself; further restarts fork from it. The lowest finite objective wins.
 */
export async function lbfgsGradientMatching(
  input: AttackInput,
  options: LbfgsMatchingOptions,
  onProgress?: (p: AttackProgress) => void,
): Promise<AttackOutput> {
  await initBackend();
  const started = process.hrtime.bigint();
  const f = new MatchingObjective(input, options);
  try {
    let best: RunResult | null = null;
    let steps = 0;
    const restartStarts: number[] = [];
    for (let r = 0; r < input.settings.restarts; r++) {
      if (r > 0) restartStarts.push(steps + 1);
      const rng = r === 0 ? new Rng(input.seed) : new Rng(input.seed).fork(`restart-${r}`);
      const result = await lbfgsRun(f, input, options, { rng, stepOffset: steps, restart: r }, onProgress);
      steps += result.steps;
      const better = best === null || (Number.isFinite(result.objective) && !(result.objective >= best.objective));
      if (better) best = result;
    }
    if (best === null) throw new Error(`${options.attackName}: attack.restarts must be at least 1`);
    const images = new Float32Array(f.imageSize);
    for (let i = 0; i < f.imageSize; i++) {
      const v = best.x[i];
      images[i] = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
    }
    const labels = options.labels ? Array.from(options.labels) : argmaxRows(best.x.subarray(f.imageSize), f.n, f.numClasses);
    const slots = attackedSlots(input, options.attackName);
    return {
      images,
      count: f.n,
      labels,
      iterations: steps,
      evaluations: f.evaluations,
      finalObjective: best.objective,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      ...(slots.truncated ? { truncated: { batchSize: slots.batchSize, attackedSlots: slots.attackedSlots } } : {}),
      restartStarts,
    };
  } finally {
    f.dispose();
  }
}

function argmaxRows(values: Float64Array, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let j = 1; j < cols; j++) if (values[r * cols + j] > values[r * cols + best]) best = j;
    return best;
  });
}

export const dlg: Attack = (input, onProgress) =>
  lbfgsGradientMatching(input, { attackName: 'dlg', stopBelow: input.settings.stopBelow }, onProgress);

/** Settings: the common scenario fields (settings.ts). */
export const dlgSettings = builtinAttackEntry('dlg');

export const dlgAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'dlg',
  settings: dlgSettings,
  run: dlg,
  requires: () => ['updates', 'architecture', 'hyperparameters'],
};
