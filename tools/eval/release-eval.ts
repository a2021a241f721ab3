/**
 * Measures the released-model attacks on MNIST (issue 17), outside npm test (minutes):
 * a softmax regression and a sigmoid MLP trained in-process on the 80 % split, a convnet evaluator
 * trained on the 20 % held-out split, then MI-FACE white-box and black-box (through the real HTTP
 * API, one run per output masking), the query monitor on the black-box attacker, and the monitor's
 * false positives on benign traffic (every MNIST digit, in batches of 1–32, from one key).
 *
 *   nice -n 10 node dist/tools/eval/release-eval.js --out runs/release-eval
 *   node dist/tools/eval/release-eval.js --models softmax --maskings full,label-only --classes 0,1
 *   node dist/tools/eval/release-eval.js --models softmax --maskings full --classes 0 --no-white-box --benign 0 --rate 100
 *
 * Prints a markdown table and writes <out>/release-results.json (schema: server/release/schema.ts),
 * the released models (<out>/<model>/release/) and one PNG per attack (<out>/<model>/release/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { initBackend } from '../../shared/tensor/backend';
import { buildModel, type Model } from '../../shared/models';
import { loadMnist, splitIndices, subset, type Dataset } from '../../shared/data';
import { Rng } from '../../shared/random';
import { modelSchema, type ModelConfig } from '../../shared/models/schema';
import { startPredictionApi } from '../../server/release/api';
import { generateKey, keyId } from '../../server/release/keys';
import { PredictClient } from '../../server/release/client';
import { saveReleasedModel } from '../../server/release/model-file';
import { accuracy, trainClassifier, type TrainOptions } from '../../server/release/train';
import { EVALUATOR_MODEL, type Evaluator } from '../../server/release/score';
import { runMiFaceAttack } from '../../server/release/run-attack';
import {
  apiSchema,
  maskingLabel,
  miFaceSchema,
  parseMasking,
  releaseResultsSchema,
  type Masking,
  type MiFaceAttackRecord,
  type ReleaseResults,
} from '../../server/release/schema';

interface TargetSpec {
  name: string;
  config: ModelConfig;
  train: Omit<TrainOptions, 'seed'>;
}

/** The sketch's recipes: softmax 5 epochs at lr 0.1, MLP (300 sigmoid) 10 epochs at lr 0.5, batch 32. */
const TARGETS: TargetSpec[] = [
  { name: 'softmax', config: modelSchema.parse({ name: 'mlp', hidden: [] }), train: { epochs: 5, learningRate: 0.1, batchSize: 32 } },
  {
    name: 'mlp',
    config: modelSchema.parse({ name: 'mlp', hidden: [300], activation: 'sigmoid' }),
    train: { epochs: 10, learningRate: 0.5, batchSize: 32 },
  },
];

interface Options {
  out: string;
  models: string[];
  maskings: Masking[];
  classes?: number[];
  iterations: number;
  benign: number;
  whiteBox: boolean;
  seed: number;
  /** inputsPerSecond of the attacked API (0 = unlimited). */
  rate: number;
  /** Overrides of the MI-FACE defaults (PROCESS, finite-difference step δ). */
  process?: 'clip' | 'identity';
  delta?: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    out: 'runs/release-eval',
    models: ['softmax', 'mlp'],
    maskings: ['full', 'round-3', 'round-2', 'round-1', 'top-1', 'label-only'].map(parseMasking),
    iterations: 5000,
    benign: 10000,
    whiteBox: true,
    seed: 0,
    rate: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--out') o.out = value;
    else if (flag === '--models') o.models = value.split(',');
    else if (flag === '--maskings') o.maskings = value === 'none' ? [] : value.split(',').map(parseMasking);
    else if (flag === '--classes') o.classes = value.split(',').map(Number);
    else if (flag === '--iterations') o.iterations = Number(value);
    else if (flag === '--benign') o.benign = Number(value);
    else if (flag === '--seed') o.seed = Number(value);
    else if (flag === '--rate') o.rate = Number(value);
    else if (flag === '--process') o.process = value === 'identity' ? 'identity' : 'clip';
    else if (flag === '--delta') o.delta = Number(value);
    else if (flag === '--no-white-box') {
      o.whiteBox = false;
      continue;
    } else throw new Error(`unknown option ${flag}`);
    i++;
  }
  return o;
}

/** Trains once per (architecture, recipe, data) and keeps the parameters in <out>/cache. */
function trained(cacheDir: string, name: string, model: Model, config: ModelConfig, data: Dataset, opts: TrainOptions): Float32Array {
  const tag = createHash('sha256')
    .update(JSON.stringify([name, config, opts, data.labels.length, data.name]))
    .digest('hex')
    .slice(0, 12);
  const file = path.join(cacheDir, `${name}-${tag}.f32`);
  if (fs.existsSync(file)) return new Float32Array(new Uint8Array(fs.readFileSync(file)).buffer);
  const started = performance.now();
  const params = trainClassifier(model, data, opts);
  process.stderr.write(`trained ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s (under load)\n`);
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(file, Buffer.from(params.buffer, params.byteOffset, params.byteLength));
  return params;
}

async function benignFalsePositives(model: Model, params: Float32Array, digits: Dataset, count: number, seed: number): Promise<number> {
  const key = generateKey();
  const api = await startPredictionApi({
    model,
    params,
    keys: [key],
    config: apiSchema.parse({ requestsPerSecond: 0, inputsPerSecond: 0, monitor: { action: 'log' } }),
  });
  try {
    const client = new PredictClient(api.url, key);
    const rng = new Rng(seed).fork('benign');
    const order = rng.shuffle(Array.from({ length: digits.labels.length }, (_, i) => i));
    const size = 784;
    let sent = 0;
    while (sent < count) {
      const n = Math.min(count - sent, 1 + rng.int(32));
      const batch = new Float32Array(n * size);
      for (let j = 0; j < n; j++) {
        const i = order[(sent + j) % order.length];
        batch.set(digits.images.subarray(i * size, (i + 1) * size), j * size);
      }
      await client.predict(batch, n);
      sent += n;
    }
    return api.monitor.flagOf(keyId(key)) ? 1 : 0;
  } finally {
    await api.close();
  }
}

async function blackBox(
  target: { model: Model; params: Float32Array },
  masking: Masking,
  o: Options,
  evaluator: Evaluator,
  train: Dataset,
  outDir: string,
): Promise<MiFaceAttackRecord> {
  const key = generateKey();
  const config = apiSchema.parse({ masking, requestsPerSecond: 0, inputsPerSecond: o.rate, monitor: { action: 'log' } });
  const api = await startPredictionApi({ model: target.model, params: target.params, config, keys: [key] });
  try {
    const attack = miFaceSchema.parse({
      name: 'mi-face',
      access: 'black-box',
      iterations: o.iterations,
      classes: o.classes,
      process: o.process,
      estimator: { delta: o.delta },
    });
    return await runMiFaceAttack({
      config: attack,
      target,
      evaluator,
      train,
      outDir,
      seed: o.seed,
      access: { kind: 'black-box', url: api.url, key, masking: maskingLabel(masking), flag: () => api.monitor.flagOf(keyId(key)) },
      onClass: (r) =>
        process.stderr.write(
          `  black-box ${maskingLabel(masking)} class ${r.label}: cost ${r.cost.toFixed(3)}, ${r.iterations} steps, ${r.queries} queries (${r.stoppedBy})\n`,
        ),
    });
  } finally {
    await api.close();
  }
}

function row(model: string, r: MiFaceAttackRecord): string {
  const ssim = r.perClass.reduce((s, c) => s + c.ssimOwn, 0) / r.perClass.length;
  const ssimOther = r.perClass.reduce((s, c) => s + c.ssimOther, 0) / r.perClass.length;
  const conf = r.perClass.reduce((s, c) => s + c.confidence, 0) / r.perClass.length;
  const flagged = r.access === 'white-box' ? '–' : r.flagged ? `after ${r.flaggedAfterQueries} (${r.flagReason})` : 'no';
  return `| ${model} | ${r.access} | ${r.masking} | ${(100 * r.classAccuracy).toFixed(0)} % | ${conf.toFixed(3)} | ${ssim.toFixed(3)} / ${ssimOther.toFixed(3)} | ${r.queries} | ${flagged} | ${r.seconds.toFixed(1)} |`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  await initBackend();
  const out = path.resolve(o.out);
  const cache = path.join(out, 'cache');
  const mnist = loadMnist();
  const split = splitIndices(mnist.labels.length, 0.2, 0, new Rng(o.seed).fork('release-split'));
  const train = subset(mnist, split.train, 'mnist-train');
  const heldOut = subset(mnist, split.test, 'mnist-heldout');
  const evalModel = buildModel(EVALUATOR_MODEL, mnist.shape, 10);
  const evalParams = trained(cache, 'evaluator', evalModel, EVALUATOR_MODEL, heldOut, {
    epochs: 8,
    learningRate: 0.05,
    batchSize: 32,
    seed: o.seed,
  });
  const evaluator: Evaluator = {
    model: evalModel,
    params: evalParams,
    testAccuracy: accuracy(evalModel, evalParams, train),
    trainedOn: heldOut.labels.length,
  };
  process.stderr.write(
    `evaluator (convnet on ${heldOut.labels.length} held-out digits): accuracy ${evaluator.testAccuracy.toFixed(4)} on the training split\n`,
  );
  const lines = [
    '| model | access | masking | class accuracy | p(label) | SSIM own / other | queries | flagged | seconds |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const all: Record<string, ReleaseResults> = {};
  for (const spec of TARGETS.filter((t) => o.models.includes(t.name))) {
    const model = buildModel(spec.config, mnist.shape, 10);
    const params = trained(cache, spec.name, model, spec.config, train, { ...spec.train, seed: o.seed });
    const testAccuracy = accuracy(model, params, heldOut);
    const outDir = path.join(out, spec.name);
    saveReleasedModel(outDir, spec.config, mnist.shape, 10, params, { testAccuracy });
    process.stderr.write(`${spec.name}: test accuracy ${testAccuracy.toFixed(4)}\n`);
    const target = { model, params };
    const attacks: MiFaceAttackRecord[] = [];
    if (o.whiteBox) {
      const config = miFaceSchema.parse({ name: 'mi-face', iterations: o.iterations, classes: o.classes, process: o.process });
      attacks.push(await runMiFaceAttack({ config, target, access: { kind: 'white-box' }, evaluator, train, outDir }));
      lines.push(row(spec.name, attacks[attacks.length - 1]));
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
    for (const masking of o.maskings) {
      attacks.push(await blackBox(target, masking, o, evaluator, train, outDir));
      lines.push(row(spec.name, attacks[attacks.length - 1]));
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
    const benignFlagged = o.benign > 0 ? await benignFalsePositives(model, params, mnist, o.benign, o.seed) : 0;
    all[spec.name] = releaseResultsSchema.parse({
      model: { name: spec.name, testAccuracy, params: params.length },
      evaluator: { testAccuracy: evaluator.testAccuracy, trainedOn: evaluator.trainedOn },
      attacks,
      monitor: { benignQueries: o.benign, benignFlagged },
    });
    lines.push(`| ${spec.name} | benign traffic | – | – | – | – | ${o.benign} | ${benignFlagged ? 'FLAGGED' : 'no'} | – |`);
  }
  fs.writeFileSync(path.join(out, 'release-results.json'), `${JSON.stringify(all, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`release-eval: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
