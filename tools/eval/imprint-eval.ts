/**
 * How many of a round's examples a malicious server reads out of an imprint block (Robbing the Fed),
 * through real secure aggregation and without it, against bins; and the same federation with an
 * honest model. MNIST, 10 clients × batch 8 (80 examples) by default, FedSGD, one round; the public
 * statistic is fitted on 1000 MNIST digits no client holds. Recovered = matched PSNR ≥ 30 dB after
 * Hungarian matching of the reconstructions to the 80 originals.
 *
 *   nice -n 10 node dist/tools/eval/imprint-eval.js --bins 64,128,256,512 --seeds 3
 *   ... --query avg | fourier | fourier:32   --distribution normal|laplace|empirical   --gain 1
 *   ... --png grid.png   (first seed, last bins: rows of 20 originals, each over its secagg reconstruction)
 *   ... --local-steps 5 --lr 0.1   (FedAvg: the update is θ_local − θ_global)
 *
 * Columns: secagg = the unmasked mean of the real protocol (clippingRange 8, quantizationRange 2^22
 * by default); plain-sum = the float mean of the same updates; per-client = each client's update
 * read alone (secure aggregation off), the 80 readouts pooled.
 */
import { buildModel } from '../../shared/models';
import { loadMnist, type Dataset } from '../../shared/data';
import { Rng } from '../../shared/random';
import { modelSchema } from '../../shared/models/schema';
import { initBackend } from '../../shared/tensor/backend';
import type { ImageShape, Model } from '../../shared/models/types';
import { buildImprintBlock, measurePublicStatistic, type BinDistribution, type ImprintQuery } from '../../server/malicious/imprint';
import { imprintReadout, type ExcessHitReduction } from '../../server/malicious/imprint-readout';
import { withImprintBlock } from '../../server/malicious/imprint-model';
import { trapReadout } from '../../server/malicious/trap-readout';
import { writeImageGrid, type ImageRow } from '../../server/report/png';
import {
  clientDelta,
  clientGradient,
  countAtLeast,
  drawBatches,
  matchedPsnrs,
  matchToOriginals,
  plainMean,
  roundTruth,
  secureAggregateMean,
  type ClientBatch,
} from './malicious-round';

interface Options {
  bins: number[];
  seeds: number;
  clients: number;
  batch: number;
  query: ImprintQuery;
  distribution?: BinDistribution;
  gain: number;
  reduction: ExcessHitReduction;
  clippingRange: number;
  quantizationRange: number;
  honest: boolean;
  /** Writes originals and their matched secagg reconstructions (first seed, last bins) here. */
  png?: string;
  /** 0: FedSGD (the gradient); S ≥ 1: FedAvg, S local full-batch steps at learningRate, update θ_local − θ_global. */
  localSteps: number;
  learningRate: number;
}

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;
const PUBLIC = 1000;
const THRESHOLD_DB = 30;

function parseQuery(text: string): ImprintQuery {
  if (text === 'avg') return { kind: 'avg' };
  const m = /^fourier(?::(\d+(?:\.\d+)?))?$/.exec(text);
  if (!m) throw new Error(`--query: expected avg, fourier or fourier:MODE, got "${text}"`);
  return { kind: 'fourier', mode: m[1] ? Number(m[1]) : 0 };
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    bins: [64, 128, 256, 512],
    seeds: 3,
    clients: 10,
    batch: 8,
    query: { kind: 'fourier', mode: 0 },
    gain: 1,
    reduction: 'bias',
    clippingRange: 8,
    quantizationRange: 2 ** 22,
    honest: true,
    localSteps: 0,
    learningRate: 0.1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--bins') o.bins = value().split(',').map(Number);
    else if (flag === '--seeds') o.seeds = Number(value());
    else if (flag === '--clients') o.clients = Number(value());
    else if (flag === '--batch') o.batch = Number(value());
    else if (flag === '--query') o.query = parseQuery(value());
    else if (flag === '--distribution') o.distribution = value() as BinDistribution;
    else if (flag === '--gain') o.gain = Number(value());
    else if (flag === '--reduction') o.reduction = value() as ExcessHitReduction;
    else if (flag === '--clipping-range') o.clippingRange = Number(value());
    else if (flag === '--quantization-range') o.quantizationRange = Number(value());
    else if (flag === '--no-honest') o.honest = false;
    else if (flag === '--png') o.png = value();
    else if (flag === '--local-steps') o.localSteps = Number(value());
    else if (flag === '--lr') o.learningRate = Number(value());
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

interface Row {
  secagg: number;
  plainSum: number;
  perClient: number;
  hits: number;
  clipped: number;
  medianSecaggPsnr: number;
  /** Originals and matched secagg reconstructions, rows of 20. */
  grid: ImageRow[];
}

/** Rows of 20: originals, then each original's matched reconstruction (black when none). */
function gridRows(originals: Float32Array, recon: Float32Array, matched: number[]): ImageRow[] {
  const rows: ImageRow[] = [];
  for (let start = 0; start < matched.length; start += 20) {
    const count = Math.min(20, matched.length - start);
    const mine = new Float32Array(count * N);
    matched.slice(start, start + count).forEach((r, k) => {
      if (r >= 0) mine.set(recon.subarray(r * N, (r + 1) * N), k * N);
    });
    rows.push({ images: originals.subarray(start * N, (start + count) * N), count }, { images: mine, count });
  }
  return rows;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
}

function clientUpdate(o: Options, model: Model, params: Float32Array, batch: ClientBatch): Float32Array {
  return o.localSteps === 0 ? clientGradient(model, params, batch) : clientDelta(model, params, batch, o.localSteps, o.learningRate);
}

function firstLayer(flat: Float32Array, bins: number): { kernel: Float32Array; bias: Float32Array } {
  return { kernel: flat.subarray(0, N * bins), bias: flat.subarray(N * bins, N * bins + bins) };
}

async function imprintRound(o: Options, ds: Dataset, bins: number, seed: number, batches: ClientBatch[]): Promise<Row> {
  const publicStat = measurePublicStatistic(o.query, ds.images.subarray((ds.labels.length - PUBLIC) * N), PUBLIC, N);
  const block = buildImprintBlock({
    inputSize: N,
    bins,
    statistic: publicStat,
    query: o.query,
    gain: o.gain,
    ...(o.distribution ? { distribution: o.distribution } : {}),
  });
  const model = withImprintBlock(buildModel(modelSchema.parse({ name: 'mlp', hidden: [100] }), SHAPE, 10), block);
  const params = model.initParams(new Rng(seed).fork('init'));
  const updates = batches.map((b) => clientUpdate(o, model, params, b));
  const truth = roundTruth(batches);
  const total = truth.count;
  const read = (flat: Float32Array, expected: number, pad = true) => {
    const { kernel, bias } = firstLayer(flat, bins);
    return imprintReadout(kernel, bias, block.secrets, { expected, reduction: o.reduction, pad });
  };
  const secure = await secureAggregateMean(updates, o, seed);
  const fromSecagg = read(secure.mean, total);
  const matching = matchToOriginals(fromSecagg.images, fromSecagg.count, truth, SHAPE);
  const secaggPsnrs = matching.psnrs;
  const fromPlain = read(plainMean(updates), total);
  const pooled = updates.map((u, c) => read(u, batches[c].labels.length, false));
  const pooledImages = new Float32Array(pooled.reduce((s, r) => s + r.images.length, 0));
  let at = 0;
  for (const r of pooled) {
    pooledImages.set(r.images, at);
    at += r.images.length;
  }
  return {
    secagg: countAtLeast(secaggPsnrs, THRESHOLD_DB),
    plainSum: countAtLeast(matchedPsnrs(fromPlain.images, fromPlain.count, truth, SHAPE), THRESHOLD_DB),
    perClient: countAtLeast(
      matchedPsnrs(
        pooledImages,
        pooled.reduce((s, r) => s + r.count, 0),
        truth,
        SHAPE,
      ),
      THRESHOLD_DB,
    ),
    hits: fromSecagg.hits,
    clipped: secure.clipped,
    medianSecaggPsnr: median(secaggPsnrs),
    grid: gridRows(truth.images, fromSecagg.images, matching.reconstruction),
  };
}

/** The same federation with the unmodified MLP: per-unit ratios of its first dense layer (the best honest readout). */
async function honestRound(o: Options, seed: number, batches: ClientBatch[]): Promise<Row> {
  const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [100] }), SHAPE, 10);
  const params = model.initParams(new Rng(seed).fork('init'));
  const updates = batches.map((b) => clientUpdate(o, model, params, b));
  const truth = roundTruth(batches);
  const units = 100;
  const read = (flat: Float32Array, expected: number) =>
    trapReadout(flat.subarray(0, N * units), flat.subarray(N * units, N * units + units), { expected });
  const secure = await secureAggregateMean(updates, o, seed);
  const fromSecagg = read(secure.mean, truth.count);
  const secaggPsnrs = matchedPsnrs(fromSecagg.images, fromSecagg.count, truth, SHAPE);
  const fromPlain = read(plainMean(updates), truth.count);
  const pooled = updates.map((u, c) => read(u, batches[c].labels.length));
  const pooledImages = new Float32Array(pooled.reduce((s, r) => s + r.images.length, 0));
  let at = 0;
  for (const r of pooled) {
    pooledImages.set(r.images, at);
    at += r.images.length;
  }
  return {
    secagg: countAtLeast(secaggPsnrs, THRESHOLD_DB),
    plainSum: countAtLeast(matchedPsnrs(fromPlain.images, fromPlain.count, truth, SHAPE), THRESHOLD_DB),
    perClient: countAtLeast(
      matchedPsnrs(
        pooledImages,
        pooled.reduce((s, r) => s + r.count, 0),
        truth,
        SHAPE,
      ),
      THRESHOLD_DB,
    ),
    hits: fromSecagg.count,
    clipped: secure.clipped,
    medianSecaggPsnr: median(secaggPsnrs),
    grid: [],
  };
}

function summarise(label: string, rows: Row[], total: number): string {
  const pct = (f: (r: Row) => number) => `${((100 * rows.reduce((s, r) => s + f(r), 0)) / (rows.length * total)).toFixed(1).padStart(5)} %`;
  const perSeed = rows.map((r) => r.secagg).join('/');
  return `${label.padEnd(10)} | ${pct((r) => r.secagg)} | ${pct((r) => r.plainSum)} | ${pct((r) => r.perClient)} | ${perSeed.padEnd(14)} | ${median(
    rows.map((r) => r.medianSecaggPsnr),
  )
    .toFixed(1)
    .padStart(6)} | ${Math.round(median(rows.map((r) => r.hits)))} | ${rows.reduce((s, r) => s + r.clipped, 0)}`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  await initBackend({ quiet: true });
  const ds = loadMnist();
  const total = o.clients * o.batch;
  const batchesBySeed = Array.from({ length: o.seeds }, (_, s) =>
    drawBatches(ds, new Rng(1000 + s).fork('batches'), o.clients, o.batch, ds.labels.length - PUBLIC),
  );
  const q = o.query.kind === 'avg' ? 'avg' : `fourier:${o.query.mode}`;
  console.log(
    `imprint on MNIST, ${o.clients} clients × batch ${o.batch} = ${total} examples, query ${q}, distribution ${o.distribution ?? 'default'}, gain ${o.gain}, reduction ${o.reduction}, ${o.localSteps === 0 ? 'FedSGD' : `FedAvg ${o.localSteps} local steps lr ${o.learningRate}`}, ${o.seeds} seeds; secagg clippingRange ${o.clippingRange}, quantizationRange ${o.quantizationRange}`,
  );
  console.log('bins       | secagg  | plain-sum | per-client | secagg per seed | median dB | hits | clipped');
  for (const bins of o.bins) {
    const rows: Row[] = [];
    for (let s = 0; s < o.seeds; s++) rows.push(await imprintRound(o, ds, bins, 1000 + s, batchesBySeed[s]));
    console.log(summarise(String(bins), rows, total));
    if (o.png && bins === o.bins[o.bins.length - 1]) writeImageGrid(o.png, rows[0].grid, SHAPE);
  }
  if (o.honest) {
    const rows: Row[] = [];
    for (let s = 0; s < o.seeds; s++) rows.push(await honestRound(o, 1000 + s, batchesBySeed[s]));
    console.log(summarise('honest', rows, total));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`imprint-eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
