/**
 * Trap weights (Curious Abandon Honesty) on a plain FedSGD update: an MLP whose first dense layer the
 * server replaced with trap weights (architecture unchanged), one client's gradient on a batch of
 * MNIST digits, the per-unit readout; recovered = matched PSNR ≥ 30 dB (Hungarian). The honest
 * model (same MLP, its normal initialisation) with the same readout is the baseline.
 *
 *   nice -n 10 node dist/tools/eval/trap-eval.js --batches 8,32 --seeds 5 [--hidden 200] [--factor 0.95 | --calibrate]
 *   ... --clients 10   (10 clients × batch through the real secure-aggregation protocol, read from the mean)
 */
import { buildModel } from '../../shared/models';
import { loadMnist } from '../../shared/data';
import { Rng } from '../../shared/random';
import { modelSchema } from '../../shared/models/schema';
import { initBackend } from '../../shared/tensor/backend';
import type { ImageShape } from '../../shared/models/types';
import { calibrateTrapFactor, plantTrapWeights } from '../../server/malicious/trap-weights';
import { trapReadoutFromUpdate } from '../../server/malicious/trap-readout';
import { clientGradient, countAtLeast, drawBatches, matchedPsnrs, roundTruth, secureAggregateMean } from './malicious-round';

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;
/** Public digits (the last ones of the loader), never in a client's batch. */
const PUBLIC = 500;

interface Options {
  batches: number[];
  seeds: number;
  hidden: number;
  factor: number;
  scale: number;
  /** Fit the factor on public digits so a unit fires for 1/batch of them. */
  calibrate: boolean;
  /** > 1: that many clients of one batch each, read from the unmasked secure-aggregation mean. */
  clients: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { batches: [8, 32], seeds: 5, hidden: 200, factor: 0.95, scale: 0.5, calibrate: false, clients: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--calibrate') {
      o.calibrate = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--batches') o.batches = v.split(',').map(Number);
    else if (flag === '--seeds') o.seeds = Number(v);
    else if (flag === '--hidden') o.hidden = Number(v);
    else if (flag === '--factor') o.factor = Number(v);
    else if (flag === '--scale') o.scale = Number(v);
    else if (flag === '--clients') o.clients = Number(v);
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

async function recovered(o: Options, batchSize: number, seed: number, trap: boolean): Promise<number> {
  const ds = loadMnist();
  const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [o.hidden] }), SHAPE, 10);
  const rng = new Rng(seed);
  let params = model.initParams(rng.fork('init'));
  const trapSeed = rng.fork('trap').seed;
  const total = o.clients * batchSize;
  const publicImages = ds.images.subarray((ds.labels.length - PUBLIC) * N);
  const factor = o.calibrate
    ? calibrateTrapFactor({ inputs: N, units: o.hidden, scale: o.scale }, trapSeed, publicImages, PUBLIC, 1 / total)
    : o.factor;
  if (trap) params = plantTrapWeights(model, params, new Rng(trapSeed), { positiveFactor: factor, scale: o.scale }).params;
  const batches = drawBatches(ds, rng.fork('batch'), o.clients, batchSize, ds.labels.length - PUBLIC);
  const updates = batches.map((b) => clientGradient(model, params, b));
  const update =
    o.clients === 1 ? updates[0] : (await secureAggregateMean(updates, { clippingRange: 8, quantizationRange: 2 ** 22 }, seed)).mean;
  const out = trapReadoutFromUpdate(update, model.specs, model.firstDenseLayer!, { expected: total });
  return countAtLeast(matchedPsnrs(out.images, out.count, roundTruth(batches), SHAPE), 30);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  await initBackend({ quiet: true });
  console.log(
    `trap weights on an MLP 784→${o.hidden}→10, ${o.clients === 1 ? 'plain FedSGD update of one client' : `${o.clients} clients through real secure aggregation`}, factor ${o.calibrate ? 'calibrated to 1/(examples in the update) on 500 public digits' : o.factor}, scale ${o.scale}, ${o.seeds} seeds`,
  );
  console.log('batch | trap: recovered ≥ 30 dB (per seed)      | honest init, same readout');
  for (const b of o.batches) {
    const trap: number[] = [];
    const honest: number[] = [];
    for (let s = 0; s < o.seeds; s++) {
      trap.push(await recovered(o, b, 500 + s, true));
      honest.push(await recovered(o, b, 500 + s, false));
    }
    const pct = (xs: number[]) => `${((100 * xs.reduce((a, c) => a + c, 0)) / (xs.length * b * o.clients)).toFixed(1)} %`;
    console.log(
      `${String(b).padStart(5)} | ${pct(trap).padStart(7)} (${trap.join('/')}) | ${pct(honest).padStart(7)} (${honest.join('/')})`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`trap-eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
