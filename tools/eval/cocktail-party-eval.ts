/**
 * The Cocktail Party attack on real MNIST aggregates: n digits split over n/b clients with batch b,
 * each client's FedSGD gradient of an MLP computed in-process as a client computes it
 * (client/train.ts), the server's weighted mean of them unmixed from the first dense layer.
 * Scoring: reconstructions paired with originals by the Hungarian method on SSIM; a digit is
 * "recognisable" at matched SSIM ≥ 0.6. Not part of npm test (minutes of CPU). After `npx tsc -p .`:
 *
 *   nice -n 10 node dist/tools/eval/cocktail-party-eval.js [--sizes 8,16,32,64] [--seeds 3] [--first-seed 100]
 *       [--batch 4] [--hidden 200] [--activation relu] [--methods fastica,priors,bias,binary-ica,units,binary] [--iterations 2000]
 *       [--secagg]   (aggregate through secure aggregation's fixed-point encoding instead of exactly)
 *
 * Methods: fastica = plain FastICA, min-max readout, sign by skewness (no prior; the baseline);
 * priors = the paper's decorrelation + TV objective, min-max readout, sign by the dataset mean image;
 * bias = priors with signs and scales from the bias gradient; binary-ica = bias + the binary-image prior refining
 * the unmixed sources; units = no unmixing, no refinement: the best distinct of the starts (unmixed sources and each
 * unit's row over its bias gradient, Phong's identity); binary = those starts refined with the binary-image prior.
 */
import { initBackend } from '../../shared/tensor/backend';
import { buildModel, splitFlat } from '../../shared/models';
import { modelSchema } from '../../shared/models/schema';
import { Rng } from '../../shared/random';
import { loadMnist, subset, type Dataset } from '../../shared/data';
import { computeUpdate } from '../../client/train';
import { addInto, dequantizeSum, quantize } from '../../shared/secagg/quantize';
import { minCostAssignment, psnr, ssim } from '../../server/metrics';
import { cocktailParty, type CocktailPartyOptions } from '../../server/observer/attacks/cocktail-party';

const SHAPE: [number, number, number] = [28, 28, 1];
const D = 784;
type Method = 'fastica' | 'priors' | 'bias' | 'binary-ica' | 'units' | 'binary';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Aggregate {
  kernel: Float32Array;
  bias: Float32Array;
  truth: Float32Array;
  units: number;
}

/** Secure aggregation's fixed-point sum (defaults: clip ±8, 2^22 levels, stochastic rounding) of the clients' updates. */
function secureSum(updates: Float32Array[], rng: Rng): Float32Array {
  const p = { clippingRange: 8, quantizationRange: 2 ** 22 };
  const sum = new Uint32Array(updates[0].length);
  for (const u of updates) addInto(sum, quantize(u, p, rng).words);
  return dequantizeSum(sum, updates.length, p);
}

/**
 * The server's view of one round: the mean of the clients' FedSGD gradients (equal batches), either
 * exact or through secure aggregation's fixed-point encoding.
 */
function aggregateOf(
  ds: Dataset,
  n: number,
  batch: number,
  hidden: number,
  activation: 'relu' | 'sigmoid' | 'tanh',
  seed: number,
  secagg: boolean,
): Aggregate {
  const rng = new Rng(seed);
  const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [hidden], activation }), SHAPE, 10);
  const params = model.initParams(rng.fork('model'));
  const indices = rng.fork('batch').sample(ds.labels.length, n);
  const updates: Float32Array[] = [];
  for (let c = 0; c * batch < n; c++) {
    const shard = subset(ds, indices.slice(c * batch, (c + 1) * batch));
    updates.push(computeUpdate(model, params, shard, [Array.from({ length: shard.labels.length }, (_, i) => i)], 'fedsgd', 0.1));
  }
  const sum = secagg ? secureSum(updates, rng.fork('secagg')) : updates.reduce((acc, u) => acc.map((v, i) => v + u[i]));
  const mean = sum.map((v) => v / updates.length);
  const [kernel, bias] = splitFlat(mean, model.specs);
  return { kernel, bias, truth: subset(ds, indices).images, units: hidden };
}

function meanImage(ds: Dataset): Float32Array {
  const m = new Float32Array(D);
  const n = ds.labels.length;
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) m[j] += ds.images[i * D + j] / n;
  return m;
}

function attack(a: Aggregate, n: number, method: Method, seed: number, iterations: number, dataMean: Float32Array): Float32Array {
  const base: CocktailPartyOptions = { examples: n, shape: SHAPE, units: a.units, seed, iterations };
  if (method === 'fastica') return cocktailParty(a.kernel, { ...base, method: 'fastica' }).images;
  if (method === 'priors') return cocktailParty(a.kernel, { ...base, method: 'priors', dataMean }).images;
  const withBias = { ...base, method: 'priors' as const, biasGradient: a.bias };
  if (method === 'bias') return cocktailParty(a.kernel, withBias).images;
  if (method === 'binary-ica') return cocktailParty(a.kernel, { ...withBias, binaryPrior: true, unitStarts: false }).images;
  if (method === 'units') return cocktailParty(a.kernel, { ...withBias, binaryPrior: true, refineIterations: 0 }).images;
  return cocktailParty(a.kernel, { ...withBias, binaryPrior: true }).images;
}

function absCorrelation(a: Float32Array, b: Float32Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < D; i++) {
    ma += a[i] / D;
    mb += b[i] / D;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < D; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return Math.abs(ab) / Math.sqrt(aa * bb || 1e-300);
}

/** Median |correlation| after matching on it: the figure the issue quotes for plain FastICA. */
function matchedCorrelation(recon: Float32Array, truth: Float32Array, n: number): number[] {
  const count = recon.length / D;
  const c = Array.from({ length: count }, (_, i) =>
    Array.from({ length: n }, (_, j) => absCorrelation(recon.subarray(i * D, (i + 1) * D), truth.subarray(j * D, (j + 1) * D))),
  );
  return minCostAssignment(c.map((row) => row.map((v) => -v))).flatMap((j, i) => (j >= 0 ? [c[i][j]] : []));
}

/** Matched (Hungarian on SSIM) per-digit SSIM and PSNR. */
function score(recon: Float32Array, truth: Float32Array, n: number): { ssim: number[]; psnr: number[] } {
  const r = (i: number) => recon.subarray(i * D, (i + 1) * D);
  const t = (j: number) => truth.subarray(j * D, (j + 1) * D);
  const count = recon.length / D;
  const sim = Array.from({ length: count }, (_, i) => Array.from({ length: n }, (_, j) => ssim(r(i), t(j), SHAPE)));
  const assignment = minCostAssignment(sim.map((row) => row.map((s) => -s)));
  const out = { ssim: [] as number[], psnr: [] as number[] };
  assignment.forEach((j, i) => {
    if (j < 0) return;
    out.ssim.push(sim[i][j]);
    out.psnr.push(psnr(r(i), t(j)));
  });
  while (out.ssim.length < n) {
    out.ssim.push(0);
    out.psnr.push(0);
  }
  return out;
}

async function main(): Promise<void> {
  await initBackend();
  const sizes = arg('sizes', '8,16,32,64').split(',').map(Number);
  const seeds = Number(arg('seeds', '3'));
  const firstSeed = Number(arg('first-seed', '100'));
  const batch = Number(arg('batch', '4'));
  const hidden = Number(arg('hidden', '200'));
  const activation = arg('activation', 'relu') as 'relu' | 'sigmoid' | 'tanh';
  const iterations = Number(arg('iterations', '2000'));
  const secagg = process.argv.includes('--secagg');
  const methods = arg('methods', 'fastica,priors,bias,binary-ica,units,binary').split(',') as Method[];
  const ds = loadMnist();
  const dataMean = meanImage(ds);
  console.log(
    `MLP 784-${hidden}(${activation})-10, clients of batch ${batch}, seeds ${firstSeed}..${firstSeed + seeds - 1}, ${iterations} prior iterations` +
      (secagg ? ', through secure aggregation fixed point (±8, 2^22)' : ''),
  );
  console.log('size  method    recognisable(SSIM>=0.6)  median SSIM  median PSNR  median|corr|  seconds');
  for (const n of sizes) {
    const aggregates = Array.from({ length: seeds }, (_, s) => aggregateOf(ds, n, batch, hidden, activation, firstSeed + s, secagg));
    for (const method of methods) {
      const all = { ssim: [] as number[], psnr: [] as number[], corr: [] as number[] };
      const started = Date.now();
      aggregates.forEach((a, s) => {
        const recon = attack(a, n, method, firstSeed + s, iterations, dataMean);
        const sc = score(recon, a.truth, n);
        all.corr.push(...matchedCorrelation(recon, a.truth, n));
        all.ssim.push(...sc.ssim);
        all.psnr.push(...sc.psnr);
      });
      const ok = all.ssim.filter((s) => s >= 0.6).length;
      const secs = (Date.now() - started) / 1000 / seeds;
      console.log(
        `${String(n).padEnd(5)} ${method.padEnd(9)} ${`${ok}/${all.ssim.length} = ${((100 * ok) / all.ssim.length).toFixed(0)}%`.padEnd(24)} ` +
          `${median(all.ssim).toFixed(3).padEnd(12)} ${median(all.psnr).toFixed(2).padEnd(12)} ${median(all.corr).toFixed(3).padEnd(13)} ${secs.toFixed(1)}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
