/**
 * Full-strength figures for Inverting Gradients (fedsgd and fedavg), the analytic attack and batch
 * label inference on real MNIST digits, with the true update made in-process exactly as a client
 * makes it. Not part of npm test (minutes of CPU). Usage, after `npx tsc -p .`:
 *
 *   node dist/tools/eval/attack-eval-ig.js <ig-fedsgd|ig-fedavg|analytic|labels> [--trials N] [--iterations N] [--seed N] [--lr X] [--restarts N] [--tv X] [--attack-lr X] [--init MEAN,STD]
 *
 * --restarts, --tv, --attack-lr and --init set attack.restarts, attack.tvWeight, attack.learningRate and attack.init (defaults 1, 1e-4, 0.1 and 0,1). --lr is the client learning rate (default 0.1; for fedavg it sets how far the local steps move).
 *
 * Prints one line per trial and the median.
 */
import { tf } from '../../shared/tensor/tf';
import { initBackend } from '../../shared/tensor/backend';
import { buildModel, unflattenParams } from '../../shared/models';
import { modelSchema } from '../../server/scenario/schema';
import { Rng } from '../../shared/random';
import { loadMnist, type Dataset } from '../../shared/data';
import { scoreReconstruction } from '../../server/metrics';
import { invertingGradients } from '../../server/observer/attacks/inverting-gradients';
import { analytic } from '../../server/observer/attacks/analytic';
import { inferLabels, multisetLabelAccuracy } from '../../server/observer/attacks/label-inference';
import { MNIST_SHAPE, TRIAL_CASES, clientUpdate, makeTrial, pickExamples, type TrialCaseName } from './eval-trials';
import { median } from '../../server/metrics/median';

async function evalAttack(
  name: TrialCaseName,
  trials: number,
  iterations: number,
  firstSeed: number,
  ds: Dataset,
  lr: number,
  restarts: number,
  tvWeight: number,
  attackLr: number,
  init: { mean: number; std: number },
): Promise<void> {
  const c = TRIAL_CASES[name];
  const psnrs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const seed = firstSeed + t;
    const { input, images, labels } = makeTrial(name, seed, ds, lr, { iterations, restarts, tvWeight, learningRate: attackLr, init });
    const n = labels.length;
    const out = c.attackName === 'analytic' ? await analytic(input) : await invertingGradients(input);
    const score = scoreReconstruction(
      { images: out.images, labels: out.labels, count: out.count },
      { images, labels, count: n },
      MNIST_SHAPE,
    );
    psnrs.push(score.psnr);
    process.stdout.write(
      `${name} seed ${seed}: PSNR ${score.psnr.toFixed(2)} dB, SSIM ${score.ssim.toFixed(3)}, labels ${(100 * score.labelAccuracy).toFixed(0)}% ` +
        `(${out.labels.join('')} vs ${labels.join('')}), objective ${out.finalObjective.toExponential(3)}, ${out.iterations} iterations, ${out.seconds.toFixed(2)} s\n`,
    );
  }
  process.stdout.write(`${name}: median PSNR ${median(psnrs).toFixed(2)} dB over ${trials} trials\n`);
}

async function evalLabels(trials: number, firstSeed: number, ds: Dataset): Promise<void> {
  const config = modelSchema.parse({ name: 'lenet-zhu' });
  const model = buildModel(config, MNIST_SHAPE, 10);
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const seed = firstSeed + t;
    const rng = new Rng(seed);
    const globalParams = model.initParams(rng.fork('model'));
    const { images, labels } = pickExamples(ds, rng.fork('batch'), 8);
    const gradient = clientUpdate(
      { model: config, steps: 1, batchSize: 8, kind: 'gradient', attackName: 'inverting-gradients' },
      globalParams,
      images,
      labels,
      0.1,
    );
    const params = unflattenParams(globalParams, model.specs);
    const guess = inferLabels({ model, params, gradient, count: 8, seed });
    tf.dispose(params);
    const acc = multisetLabelAccuracy(guess, labels);
    total += acc;
    process.stdout.write(
      `labels seed ${seed}: ${(100 * acc).toFixed(1)}% (${guess.join('')} vs ${labels
        .slice()
        .sort((a, b) => a - b)
        .join('')})\n`,
    );
  }
  process.stdout.write(`labels: batch 8 accuracy ${((100 * total) / trials).toFixed(1)}% over ${trials} batches\n`);
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} ${args[i + 1]}: expected a non-negative integer`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const which = args[0];
  if (!which || !(which in TRIAL_CASES || which === 'labels')) {
    throw new Error(
      `usage: attack-eval-ig <${[...Object.keys(TRIAL_CASES), 'labels'].join('|')}> [--trials N] [--iterations N] [--seed N] [--lr X] [--restarts N] [--tv X] [--attack-lr X] [--init MEAN,STD]`,
    );
  }
  await initBackend();
  const ds = loadMnist();
  const seed = option(args, '--seed', 1);
  if (which === 'labels') await evalLabels(option(args, '--trials', 10), seed, ds);
  const lrIndex = args.indexOf('--lr');
  const lr = lrIndex < 0 ? 0.1 : Number(args[lrIndex + 1]);
  if (!(lr > 0)) throw new Error(`--lr ${args[lrIndex + 1]}: expected a positive number`);
  if (which === 'labels') return;
  const tvIndex = args.indexOf('--tv');
  const tv = tvIndex < 0 ? 1e-4 : Number(args[tvIndex + 1]);
  if (!(tv >= 0)) throw new Error(`--tv ${args[tvIndex + 1]}: expected a non-negative number`);
  const alrIndex = args.indexOf('--attack-lr');
  const attackLr = alrIndex < 0 ? 0.1 : Number(args[alrIndex + 1]);
  if (!(attackLr > 0)) throw new Error(`--attack-lr ${args[alrIndex + 1]}: expected a positive number`);
  const initIndex = args.indexOf('--init');
  const [mean, std] = initIndex < 0 ? [0, 1] : (args[initIndex + 1] ?? '').split(',').map(Number);
  if (!Number.isFinite(mean) || !(std >= 0)) throw new Error(`--init ${args[initIndex + 1]}: expected MEAN,STD`);
  await evalAttack(
    which as TrialCaseName,
    option(args, '--trials', 5),
    option(args, '--iterations', 2000),
    seed,
    ds,
    lr,
    Math.max(1, option(args, '--restarts', 1)),
    tv,
    attackLr,
    { mean, std },
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
