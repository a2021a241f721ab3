/**
 * Inverting Gradients (Geiping et al., NeurIPS 2020).
 *
 * Objective: 1 − cos(∇θ L(x̂, ŷ), g*) over the whole concatenated update, + tvWeight · TV(x̂)
 * (anisotropic: mean |dx| + mean |dy|). Adam (β 0.9/0.999, ε 1e-8) is fed the SIGN of ∂objective/∂x̂,
 * lr `attack.learningRate` (default 0.1), ×0.1 at 3/8, 5/8 and 7/8 of the iterations; x̂ is projected
 * into [0, 1] after every step (pixel space; a data.normalize layer runs inside the model). Dummies start
 * N(attack.init.mean, attack.init.std²): the reference's N(0, 1) is in normalised units, so MNIST
 * scenarios set the data's mean 0.1307 and std 0.3081. `attack.restarts` independent runs; the lowest
 * final objective wins. Labels are inferred first (label-inference.ts) and kept fixed as one-hot
 * targets; when the count rule has alternatives (close calls, over-predicted classes), they are
 * screened too (below).
 *
 * FedAvg ('weight-delta' updates): the client ran `localSteps` SGD steps with the public learning
 * rate, step s on its s-th batch of `batchSize` examples (client/ semantics, see docs/attacks.md).
 * The attack optimises localSteps·batchSize dummies, unrolls θ ← θ − lr·∇L(batch s) differentiably
 * from the global parameters, and matches Σ_s −lr·∇L(batch s) = θ_local − θ_global by cosine.
 * Labels come from −delta / (lr · steps) as a gradient estimate. Which step saw which label is not
 * in that estimate, yet a wrong deal leaves the objective stuck far from 0 (lenet-zhu 2 × 2: 4e-4 and
 * ~15 dB against 1.5e-5 and ~32 dB with the right deal). Re-scoring images optimised under one deal
 * always favours that deal, so instead every way to deal the labels over the steps (6 for 2 × 2, up
 * to MAX_ARRANGEMENTS) gets a short screening run (SCREEN_FRACTION of the iterations, same start);
 * the full run, a fresh start of the restart, uses the deal with the lowest screened objective.
 * Label candidates are screened the same way (fedsgd and fedavg): each candidate multiset × each deal.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../../../shared/tensor/tf';
import { Rng } from '../../../shared/random';
import { unflattenParams, oneHot, type BatchStatistics } from '../../../shared/models';
import { modelFromDefinition } from '../../../shared/models/definition';
import type { Model } from '../../../shared/models/types';
import { cosineGradientDistance, parameterGradients } from '../gradient-matching';
import { inferLabelCandidates } from './label-inference';
import { SignAdam } from '../optim/sign-adam';
import type { AttackInput, AttackOutput, AttackProgress, UpdateKind, AttackDefinition } from './types';
import { builtinAttackEntry, type BuiltinAttackSettings } from './settings';
import { logitLayerProblem } from './model-problems';

/** Anisotropic total variation of NHWC images: mean |x[h+1] − x[h]| + mean |x[w+1] − x[w]|. */
export function totalVariation(x: Tensor4D): Tensor {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [n, h - 1, w, c]), tf.slice(x, [0, 0, 0, 0], [n, h - 1, w, c]));
    const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [n, h, w - 1, c]), tf.slice(x, [0, 0, 0, 0], [n, h, w - 1, c]));
    return tf.add(tf.mean(tf.abs(dx)), tf.mean(tf.abs(dy)));
  });
}

/** Learning rate at 0-based iteration `it` of `total`: ×0.1 at ⌊3/8⌋, ⌊5/8⌋, ⌊7/8⌋ of `total`. */
export function scheduledLearningRate(base: number, it: number, total: number): number {
  const milestones = [Math.floor((3 * total) / 8), Math.floor((5 * total) / 8), Math.floor((7 * total) / 8)];
  return base * Math.pow(0.1, milestones.filter((m) => it >= m).length);
}

/** What the client did, as far as the attacker can tell from the public training config. */
export interface UnrollPlan {
  /** SGD steps the client took (1 for fedsgd gradients). */
  steps: number;
  /** Examples per step. */
  batchSize: number;
  /** Client learning rate (fedavg only; 1 for gradients). */
  learningRate: number;
}

export function unrollPlan(input: AttackInput): UnrollPlan {
  const t = input.payload.training;
  if (input.observed.kind === 'gradient') {
    // A fedsgd gradient is the mean over one batch; the declared example count is that batch.
    const batch = input.observed.numExamples > 0 ? input.observed.numExamples : t.batchSize;
    return { steps: 1, batchSize: batch, learningRate: 1 };
  }
  if (t.localEpochs > 0) {
    throw new Error(
      'inverting-gradients: fedavg with federation.localEpochs > 0 is not supported (every epoch revisits the shard in a new order, so each example enters several steps); use localSteps',
    );
  }
  const needed = t.localSteps * t.batchSize;
  if (input.observed.numExamples > 0 && input.observed.numExamples !== needed) {
    // The client's schedule (client/schedule.ts) only gives localSteps distinct full batches when its shard holds them.
    throw new Error(
      `inverting-gradients: the client declared ${input.observed.numExamples} examples, but ${t.localSteps} local steps × batch ${t.batchSize} = ${needed} distinct examples are needed to unroll its steps (smaller shards repeat examples across epochs, which is not modelled)`,
    );
  }
  return { steps: t.localSteps, batchSize: t.batchSize, learningRate: t.learningRate };
}

/**
 * The update the client would send for dummy images `x` (count = steps · batchSize) with fixed
 * one-hot targets per step: the gradient (1 step, lr 1 and sign flipped back) or Σ −lr·∇L.
 */
export function simulatedUpdate(
  model: Model,
  params: readonly Tensor[],
  x: Tensor4D,
  targets: readonly Tensor2D[],
  plan: UnrollPlan,
  kind: UpdateKind,
): Tensor[] {
  if (kind === 'gradient') return parameterGradients(model, params, x, targets[0]);
  let theta: Tensor[] = params.slice();
  let delta: Tensor[] | null = null;
  const [, h, w, c] = x.shape;
  for (let s = 0; s < plan.steps; s++) {
    const xs = tf.slice(x, [s * plan.batchSize, 0, 0, 0], [plan.batchSize, h, w, c]) as Tensor4D;
    const g = parameterGradients(model, theta, xs, targets[s]);
    const stepDelta = g.map((gi) => tf.mul(gi, -plan.learningRate));
    delta = delta === null ? stepDelta : delta.map((d, i) => tf.add(d, stepDelta[i]));
    if (s + 1 < plan.steps) theta = theta.map((p, i) => tf.add(p, stepDelta[i]));
  }
  return delta ?? [];
}

/** θ_global + (s/steps)·delta for s = 0…steps−1 (the first entry is `params` itself, not a copy). */
export function stepParamEstimates(params: readonly Tensor[], delta: readonly Tensor[], plan: UnrollPlan, kind: UpdateKind): Tensor[][] {
  if (kind === 'gradient' || plan.steps === 1) return [params.slice()];
  return Array.from({ length: plan.steps }, (_, s) =>
    s === 0 ? params.slice() : tf.tidy(() => params.map((p, i) => tf.add(p, tf.mul(delta[i], s / plan.steps)))),
  );
}

/** Fixed one-hot targets per step, from labels already arranged step by step. */
function stepTargets(labels: readonly number[], plan: UnrollPlan, numClasses: number): Tensor2D[] {
  // tidy: oneHot's intermediate int tensors would otherwise outlive the attack.
  return tf.tidy(() =>
    Array.from({ length: plan.steps }, (_, s) => oneHot(labels.slice(s * plan.batchSize, (s + 1) * plan.batchSize), numClasses)),
  );
}

/**
 * Every way to deal items 0…n−1 into `steps` ordered groups of `batchSize` (order inside a group does
 * not matter: the loss is a batch mean), as flat index lists, group after group. Stops after `limit`.
 */
export function orderedPartitions(n: number, steps: number, batchSize: number, limit: number): number[][] {
  if (steps * batchSize !== n) throw new Error(`orderedPartitions: ${n} items for ${steps} × ${batchSize}`);
  const out: number[][] = [];
  const current: number[] = [];
  const used = new Array<boolean>(n).fill(false);
  // Inside a group indices increase, so each group is produced once.
  const rec = (from: number): boolean => {
    if (current.length === n) {
      out.push(current.slice());
      return out.length < limit;
    }
    const start = current.length % batchSize === 0 ? 0 : from;
    for (let i = start; i < n; i++) {
      if (used[i]) continue;
      used[i] = true;
      current.push(i);
      const ok = rec(i + 1);
      current.pop();
      used[i] = false;
      if (!ok) return false;
    }
    return true;
  };
  rec(0);
  return out;
}

/** FedAvg screens the deals of labels over the steps only when there are at most this many (else: sorted deal). */
export const MAX_ARRANGEMENTS = 24;

/** Label multisets screened per restart: the count rule's answer and up to two alternatives (countRuleCandidates). */
export const LABEL_CANDIDATES = 3;

/**
 * At most this many short screening runs per restart. Options come deal by deal, each deal under
 * every candidate, so a cut (many deals: e.g. 4 steps × batch 1 has 24) keeps every candidate.
 */
export const MAX_SCREENED_OPTIONS = 24;

/** Length of one screening run, as a fraction of attack.iterations (0.1 → 200 of 2000 steps). */
export const SCREEN_FRACTION = 0.1;

/**
 * Per-step label sequences to screen: every candidate multiset dealt by every arrangement, without
 * repeats (deals that differ only inside a step, or by equal labels, give the same update). Deal-major
 * order: the first deal under each candidate, then the second, … (see MAX_SCREENED_OPTIONS).
 */
export function screeningOptions(
  candidates: readonly (readonly number[])[],
  deals: readonly (readonly number[])[],
  batchSize: number,
): number[][] {
  const out: number[][] = [];
  const seen = new Set<string>();
  for (const deal of deals) {
    for (const labels of candidates) {
      const dealt = deal.map((i) => labels[i]);
      const key = Array.from({ length: dealt.length / batchSize }, (_, s) =>
        dealt
          .slice(s * batchSize, (s + 1) * batchSize)
          .sort((a, b) => a - b)
          .join(','),
      ).join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(dealt);
    }
  }
  return out;
}

interface TrialOptions {
  labels: readonly number[];
  iterations: number;
  /** Seeds the N(init.mean, init.std²) dummy start. */
  rng: Rng;
  /** Start from these images instead (already in [0, 1]). */
  init?: Float32Array;
  /** Added to reported iteration numbers. */
  iterationOffset: number;
}

interface TrialResult {
  images: Float32Array;
  objective: number;
  steps: number;
}

type LabelledResult = TrialResult & { labels: number[] };

/** The attack's constants (created once) and its running counts. */
interface Problem {
  input: AttackInput;
  model: Model;
  plan: UnrollPlan;
  count: number;
  shape: [number, number, number, number];
  numClasses: number;
  params: Tensor[];
  target: Tensor[];
  targetNormSq: Tensor;
  evaluations: number;
  /** All optimizer steps the attack plans (restarts × (screening + full run)), for progress lines. */
  plannedSteps?: number;
  onProgress?: (p: AttackProgress) => void;
}

function prepare(input: AttackInput, onProgress?: (p: AttackProgress) => void): Problem {
  const { inputShape, numClasses } = input.payload.model;
  const model = modelFromDefinition(input.payload.model);
  const plan = unrollPlan(input);
  const count = plan.steps * plan.batchSize;
  const params = unflattenParams(input.payload.params, model.specs);
  const target = unflattenParams(input.observed.update, model.specs);
  const targetNormSq = tf.tidy(() => tf.addN(target.map((g) => tf.sum(tf.square(g)))));
  return { input, model, plan, count, shape: [count, ...inputShape], numClasses, params, target, targetNormSq, evaluations: 0, onProgress };
}

function startImages(p: Problem, r: Rng): Float32Array {
  const [n, h, w, c] = p.shape;
  const buffer = new Float32Array(n * h * w * c);
  r.fillNormal(buffer, p.input.settings.init.mean, p.input.settings.init.std);
  return buffer;
}

/** One optimisation from a start (fresh N(init.mean, init.std²), or given) with fixed per-step labels. */
function trial(p: Problem, opts: TrialOptions): TrialResult {
  const { settings } = p.input;
  const baseLr = settings.learningRate ?? 0.1;
  const targets = stepTargets(opts.labels, p.plan, p.numClasses);
  const prior = batchStatisticsPrior(p);
  const objectiveOf = (x: Tensor4D): Tensor =>
    tf.tidy(() => {
      const dummy = simulatedUpdate(p.model, p.params, x, targets, p.plan, p.input.observed.kind);
      let value = cosineGradientDistance(dummy, p.target, p.targetNormSq);
      if (settings.tvWeight > 0) value = tf.add(value, tf.mul(totalVariation(x), settings.tvWeight));
      return prior ? tf.add(value, prior.term(x)) : value;
    });
  const valueAndGrad = tf.valueAndGrad((x: Tensor) => objectiveOf(x as Tensor4D));
  let x = tf.tensor4d(opts.init ?? startImages(p, opts.rng), p.shape);
  const adam = new SignAdam(x);
  let steps = 0;
  try {
    for (let it = 0; it < opts.iterations; it++) {
      const { value, grad } = valueAndGrad(x);
      prior?.release();
      // Projected into [0, 1] after every step (fedleak images are in [0, 1]).
      const next = adam.step(x, grad, scheduledLearningRate(baseLr, it, opts.iterations), (y) => tf.clipByValue(y, 0, 1)) as Tensor4D;
      tf.dispose([x, grad]);
      x = next;
      p.evaluations++;
      steps++;
      const objective = value.dataSync()[0];
      value.dispose();
      if (p.onProgress && (it % 10 === 0 || it + 1 === opts.iterations))
        p.onProgress({ iteration: opts.iterationOffset + it + 1, objective, total: p.plannedSteps });
      if (settings.stopBelow !== undefined && objective < settings.stopBelow) break;
    }
    // Score the projected final images (the last value was taken before the last step).
    const finalValue = objectiveOf(x);
    const objective = finalValue.dataSync()[0];
    finalValue.dispose();
    prior?.release();
    p.evaluations++;
    return { images: x.dataSync().slice() as Float32Array, objective, steps };
  } finally {
    adam.dispose();
    prior?.dispose();
    tf.dispose([x, ...targets]);
  }
}

/**
 * The batch-norm statistics prior (DeepInversion, Yin et al. 2020; breaching's BN regulariser):
 * Σ over layers of ‖μ(x̂) − μ‖₂ + ‖σ²(x̂) − σ²‖₂, the dummy batch's statistics against those the
 * update reveals. Null unless the settings ask for it and the statistics are known. The layer
 * statistics come out of the model's pass kept (`release` frees them once the gradient is taken).
 */
function batchStatisticsPrior(p: Problem): { term: (x: Tensor4D) => Tensor; release: () => void; dispose: () => void } | null {
  const weight = p.input.settings.bnStatisticsWeight ?? 0;
  const observed = p.input.batchStatistics;
  if (!(weight > 0) || !observed || p.plan.steps !== 1) return null;
  const wanted = new Map(observed.map((o) => [o.movingMean, { mean: tf.tensor1d(o.mean), variance: tf.tensor1d(o.variance) }]));
  const kept: Tensor[] = [];
  const term = (x: Tensor4D): Tensor => {
    const parts: Tensor[] = [];
    const onBatchStatistics = (s: BatchStatistics) => {
      const target = wanted.get(s.movingMean);
      if (!target) return;
      const part = tf.keep(tf.add(tf.norm(tf.sub(s.mean, target.mean)), tf.norm(tf.sub(s.variance, target.variance))));
      kept.push(part);
      parts.push(part);
    };
    p.model.apply(p.params, x, { batchNorm: 'batch', onBatchStatistics }).dispose();
    return parts.length > 0 ? tf.mul(tf.addN(parts), weight) : tf.scalar(0);
  };
  const release = () => tf.dispose(kept.splice(0));
  const dispose = () => tf.dispose([...wanted.values()].flatMap((t) => [t.mean, t.variance]));
  return { term, release, dispose };
}

function screeningSteps(p: Problem): number {
  return Math.max(1, Math.ceil(p.input.settings.iterations * SCREEN_FRACTION));
}

/**
 * One restart: a short run under every screening option (label candidate × deal over the steps) from
 * one shared start, so the screened objectives differ by the labels only; the full run, from a fresh
 * start, uses the option with the lowest screened objective. One option: just the full run.
 */
function screenedTrial(p: Problem, options: readonly number[][], r: Rng, offset: number): LabelledResult {
  const iterations = p.input.settings.iterations;
  if (options.length === 1)
    return { ...trial(p, { labels: options[0], iterations, rng: r, iterationOffset: offset }), labels: options[0].slice() };
  const start = startImages(p, r.fork('screen'));
  let chosen = options[0];
  let bestValue = Infinity;
  let done = 0;
  for (const candidate of options) {
    const res = trial(p, { labels: candidate, iterations: screeningSteps(p), rng: r, init: start, iterationOffset: offset + done });
    done += res.steps;
    if (res.objective < bestValue) {
      bestValue = res.objective;
      chosen = candidate;
    }
  }
  const full = trial(p, { labels: chosen, iterations, rng: r, iterationOffset: offset + done });
  return { ...full, steps: done + full.steps, labels: chosen.slice() };
}

/** The per-step label sequences to screen: label candidates (label-inference.ts) × deals over the steps. */
function labelOptions(p: Problem): number[][] {
  const { input, plan, count } = p;
  // Labels: the update as a gradient estimate (fedavg: −delta / (lr · steps)).
  const gradientEstimate =
    input.observed.kind === 'gradient' ? input.observed.update : input.observed.update.map((v) => -v / (plan.learningRate * plan.steps));
  // FedAvg: the steps saw the examples at θ_global + (s/steps)·delta (approximately); p̂ is averaged there.
  const softmaxAt = stepParamEstimates(p.params, p.target, plan, input.observed.kind);
  let candidates: number[][];
  try {
    candidates = inferLabelCandidates(
      { model: p.model, params: p.params, gradient: gradientEstimate, count, seed: input.seed, softmaxAt },
      LABEL_CANDIDATES,
    );
  } finally {
    softmaxAt.slice(1).forEach((ps) => tf.dispose(ps));
  }
  // FedAvg: which step saw which label is not in the delta either; the deals are screened too.
  const arrangements = plan.steps > 1 ? orderedPartitions(count, plan.steps, plan.batchSize, MAX_ARRANGEMENTS + 1) : [];
  const deals =
    arrangements.length > 1 && arrangements.length <= MAX_ARRANGEMENTS ? arrangements : [Array.from({ length: count }, (_, i) => i)];
  return screeningOptions(candidates, deals, plan.batchSize).slice(0, MAX_SCREENED_OPTIONS);
}

export const invertingGradients = async (input: AttackInput, onProgress?: (p: AttackProgress) => void): Promise<AttackOutput> => {
  const started = performance.now();
  const p = prepare(input, onProgress);
  const { restarts, iterations } = input.settings;
  try {
    if (p.targetNormSq.dataSync()[0] === 0) throw new Error('inverting-gradients: the update is all zeros; there is nothing to invert');
    const options = labelOptions(p);
    p.plannedSteps = restarts * (iterations + (options.length > 1 ? options.length * screeningSteps(p) : 0));
    const rng = new Rng(input.seed);
    let iterationsDone = 0;
    let best: LabelledResult | null = null;
    for (let restart = 0; restart < restarts; restart++) {
      const result = screenedTrial(p, options, rng.fork(`restart-${restart}`), iterationsDone);
      iterationsDone += result.steps;
      if (best === null || result.objective < best.objective || !Number.isFinite(best.objective)) best = result;
    }
    const winner = best as LabelledResult | null;
    if (winner === null) throw new Error('inverting-gradients: attack.restarts must be at least 1');
    return {
      images: winner.images,
      count: p.count,
      labels: [...winner.labels],
      iterations: iterationsDone,
      evaluations: p.evaluations,
      finalObjective: winner.objective,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    tf.dispose([...p.params, ...p.target, p.targetNormSq]);
  }
};

/** Settings: the common scenario fields (settings.ts). */
export const invertingGradientsSettings = builtinAttackEntry('inverting-gradients');

export const invertingGradientsAttack: AttackDefinition<BuiltinAttackSettings> = {
  name: 'inverting-gradients',
  settings: invertingGradientsSettings,
  run: invertingGradients,
  requires: (settings) => [
    'updates',
    'architecture',
    'hyperparameters',
    'data-prior',
    ...((settings.bnStatisticsWeight ?? 0) > 0 ? (['batchnorm-statistics'] as const) : []),
  ],
  modelProblem: (model) => logitLayerProblem(model, 'inverting-gradients'),
};
