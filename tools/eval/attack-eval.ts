/**
 * Full-strength evaluation of the L-BFGS gradient-matching attacks (dlg, idlg) on real MNIST
 * digits, outside npm test (it takes minutes). For trial k: digit k of the MNIST loader (so
 * consecutive trials are different classes), a fresh model initialised with seed base+k, the true
 * fedsgd gradient of that one example computed in-process, then the attack with dummy seed base+k.
 *
 *   node dist/tools/eval/attack-eval.js --attack dlg --trials 5 --iterations 300
 *   node dist/tools/eval/attack-eval.js --attack idlg --trials 20 --labels-only
 *
 * Prints one line per trial and a summary (median PSNR, labels recovered); --json for a JSON line.
 * --export DIR writes each trial's problem (model specs and weights in tfjs layout, true gradient,
 * digit, label, the attack's dummy initialisation) and result as JSON, so that a PyTorch peer can
 * run the identical problem (docs/attacks.md, "Cross-check against PyTorch").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf, type Tensor4D } from '../../shared/tensor/tf';
import { initBackend } from '../../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../../shared/models';
import { loadMnist } from '../../shared/data/mnist';
import { Rng } from '../../shared/random';
import { attackSchema, modelSchema, type ModelConfig } from '../../server/scenario/schema';
import { scoreReconstruction } from '../../server/metrics';
import { parameterGradients } from '../../server/observer/gradient-matching';
import { getAttack } from '../../server/observer/attacks';
import { idlgLabels } from '../../server/observer/attacks/idlg';
import { attackInput } from '../../server/observer/attack-input';
import type { AttackInput } from '../../server/observer/attacks/types';
import { simulatedObservation } from './eval-trials';
import { median } from '../../server/metrics/median';
import { writeImageGrid } from '../../server/report/png';

interface Options {
  attack: string;
  model: ModelConfig['name'];
  trials: number;
  iterations: number;
  seed: number;
  first: number;
  labelsOnly: boolean;
  lineSearch: 'none' | 'strong-wolfe';
  json: boolean;
  png?: string;
  /** Directory for one JSON per trial (weights, true gradient, digit, dummy init, result) for peer runs. */
  exportDir?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    attack: 'dlg',
    model: 'lenet-zhu',
    trials: 5,
    iterations: 300,
    seed: 1,
    first: 0,
    labelsOnly: false,
    lineSearch: 'none',
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer`);
      return v;
    };
    if (flag === '--attack') o.attack = value();
    else if (flag === '--model') o.model = modelSchema.shape.name.parse(value());
    else if (flag === '--trials') o.trials = int();
    else if (flag === '--iterations') o.iterations = int();
    else if (flag === '--seed') o.seed = int();
    else if (flag === '--first') o.first = int();
    else if (flag === '--labels-only') o.labelsOnly = true;
    else if (flag === '--strong-wolfe') o.lineSearch = 'strong-wolfe';
    else if (flag === '--json') o.json = true;
    else if (flag === '--png') o.png = value();
    else if (flag === '--export') o.exportDir = value();
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

type Mnist = ReturnType<typeof loadMnist>;
type Backend = Awaited<ReturnType<typeof initBackend>>;
type AttackOutput = Awaited<ReturnType<ReturnType<typeof getAttack>>>;
type Row = { psnr: number; ssim: number; labelOk: boolean; evaluations: number; seconds: number };
type Grid = { images: Float32Array; count: number }[];

/** Everything the evaluation knows about one trial before the attack runs. */
interface TrialProblem {
  index: number;
  image: Float32Array;
  label: number;
  model: ReturnType<typeof buildModel>;
  globalParams: Float32Array;
  update: Float32Array;
  input: AttackInput;
}

interface EvalContext {
  o: Options;
  data: Mnist;
  shape: Mnist['shape'];
  size: number;
  modelConfig: ModelConfig;
  attackConfig: ReturnType<typeof attackSchema.parse>;
}

/** Trial k: digit first+k, a fresh model (seed base+k), its true fedsgd gradient, and the attack input. */
function trialProblem(ctx: EvalContext, k: number): TrialProblem {
  const { o, data, shape, size, modelConfig, attackConfig } = ctx;
  const index = o.first + k;
  const image = data.images.slice(index * size, (index + 1) * size);
  const label = data.labels[index];
  const model = buildModel(modelConfig, shape, data.numClasses);
  const globalParams = model.initParams(new Rng(o.seed + k).fork('model-init'));
  const update = tf.tidy(() => {
    const params = unflattenParams(globalParams, model.specs);
    const grads = parameterGradients(model, params, tf.tensor4d(image, [1, ...shape]) as Tensor4D, oneHot([label], data.numClasses));
    return flattenParams(grads, model.specs);
  });
  const training = { algorithm: 'fedsgd', batchSize: 1, localSteps: 1, learningRate: 0.1, localEpochs: 0 } as const;
  const { observed, payload } = simulatedObservation({
    model: modelConfig,
    inputShape: shape,
    numClasses: data.numClasses,
    globalParams,
    update,
    kind: 'gradient',
    training,
    numExamples: 1,
  });
  const input = attackInput(observed, payload, { settings: attackConfig, seed: o.seed + k });
  return { index, image, label, model, globalParams, update, input };
}

/** Writes one trial's problem and result as JSON for a peer run (--export). */
function exportTrial(ctx: EvalContext, exportDir: string, p: TrialProblem, out: AttackOutput): void {
  const { o, data, size } = ctx;
  // The attack's own dummy initialisation (dlg.ts): Rng(seed).fork('dummy-data' | 'dummy-label').
  const rng = new Rng(p.input.seed);
  const x0 = new Float32Array(size + (o.attack === 'dlg' ? data.numClasses : 0));
  rng.fork('dummy-data').fillNormal(x0.subarray(0, size));
  if (o.attack === 'dlg') rng.fork('dummy-label').fillNormal(x0.subarray(size));
  fs.mkdirSync(exportDir, { recursive: true });
  const file = path.join(exportDir, `${o.attack}-seed${p.input.seed}-digit${p.index}.json`);
  const record = {
    attack: o.attack,
    specs: p.model.specs,
    params: Array.from(p.globalParams),
    update: Array.from(p.update),
    image: Array.from(p.image),
    label: p.label,
    x0: Array.from(x0),
    recon: Array.from(out.images),
    labels: out.labels,
  };
  fs.writeFileSync(file, JSON.stringify(record));
}

/** Runs trial k (labels only, or the full attack), prints its line, and returns its row. */
async function runTrial(ctx: EvalContext, attack: ReturnType<typeof getAttack>, grid: Grid, k: number): Promise<Row> {
  const { o, shape, size } = ctx;
  const p = trialProblem(ctx, k);
  const { index, image, label } = p;
  if (o.labelsOnly) {
    const got = idlgLabels(p.input)[0];
    console.log(`trial ${k}: digit #${index} label ${label} → recovered ${got}`);
    return { psnr: Number.NaN, ssim: Number.NaN, labelOk: got === label, evaluations: 0, seconds: 0 };
  }
  const out = await attack(p.input);
  if (o.exportDir) exportTrial(ctx, o.exportDir, p, out);
  const score = scoreReconstruction(out, { images: image, labels: [label], count: 1 }, shape);
  grid[0].images.set(image, k * size);
  grid[1].images.set(out.images, k * size);
  console.log(
    `trial ${k}: digit #${index} label ${label} → ${out.labels[0]}, PSNR ${score.psnr.toFixed(2)} dB, SSIM ${score.ssim.toFixed(4)}, ` +
      `MSE ${score.mse.toExponential(2)}, objective ${out.finalObjective.toExponential(2)}, ${out.iterations} steps, ${out.evaluations} evaluations, ${out.seconds.toFixed(1)} s`,
  );
  return { psnr: score.psnr, ssim: score.ssim, labelOk: out.labels[0] === label, evaluations: out.evaluations, seconds: out.seconds };
}

/** The summary object printed with --json. */
function summarize(o: Options, backend: Backend, rows: Row[]) {
  return {
    attack: o.attack,
    model: o.model,
    backend: backend.name,
    fastKernels: backend.fastKernels,
    trials: o.trials,
    iterations: o.iterations,
    lineSearch: o.lineSearch,
    labelsRecovered: rows.filter((r) => r.labelOk).length,
    medianPsnr: o.labelsOnly ? null : median(rows.map((r) => r.psnr)),
    medianSsim: o.labelsOnly ? null : median(rows.map((r) => r.ssim)),
    totalEvaluations: rows.reduce((s, r) => s + r.evaluations, 0),
    totalSeconds: rows.reduce((s, r) => s + r.seconds, 0),
    msPerEvaluation:
      (1000 * rows.reduce((s, r) => s + r.seconds, 0)) /
      Math.max(
        1,
        rows.reduce((s, r) => s + r.evaluations, 0),
      ),
  };
}

function printSummary(o: Options, backend: Backend, summary: ReturnType<typeof summarize>): void {
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `${o.attack} on ${o.model} (${backend.name}${backend.fastKernels ? ', fast kernels' : ''}): labels ${summary.labelsRecovered}/${o.trials}` +
        (o.labelsOnly
          ? ''
          : `, median PSNR ${summary.medianPsnr?.toFixed(2)} dB, median SSIM ${summary.medianSsim?.toFixed(4)}, ${summary.msPerEvaluation.toFixed(1)} ms/evaluation`),
    );
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await initBackend();
  const data = loadMnist();
  const shape = data.shape;
  const size = shape[0] * shape[1] * shape[2];
  const modelConfig = modelSchema.parse({ name: o.model });
  const attackConfig = attackSchema.parse({ name: o.attack, iterations: o.iterations, lineSearch: o.lineSearch });
  const ctx: EvalContext = { o, data, shape, size, modelConfig, attackConfig };
  const attack = getAttack(o.attack);
  const rows: Row[] = [];
  const grid: Grid = [
    { images: new Float32Array(o.trials * size), count: o.trials },
    { images: new Float32Array(o.trials * size), count: o.trials },
  ];
  for (let k = 0; k < o.trials; k++) rows.push(await runTrial(ctx, attack, grid, k));
  const summary = summarize(o, backend, rows);
  if (o.png && !o.labelsOnly) writeImageGrid(o.png, grid, shape);
  printSummary(o, backend, summary);
}

main().catch((err: unknown) => {
  process.stderr.write(`attack-eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
