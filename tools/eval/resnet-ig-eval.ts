/**
 * Issue 16's ResNet figure: Inverting Gradients, batch 1, on the built-in `resnet` (depth 8, batch
 * norm in training mode) at CIFAR shape — real MNIST digits written as 32×32 RGB PNGs into an
 * image folder, trained on by real client processes (`fedleak run`'s code path). One client per
 * trial (each its own digit and attack seed); prints each PSNR and the median, next to breaching's
 * published IG figure. Not part of npm test (minutes of CPU). After `npx tsc -p .`:
 *
 *   node dist/tools/eval/resnet-ig-eval.js [--trials 5] [--iterations 2000] [--depth 8] [--tv 1e-4] [--lr 0.1] [--restarts 1] [--init 0,1] [--bn-weight 0] [--out DIR]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { loadDataset } from '../../shared/data';
import { writeImageFolder } from '../../shared/data/image-folder-write';
import { dataSchema } from '../../server/scenario/schema';
import { validateScenario } from '../../server/scenario/load';
import { runScenario } from '../../server/run';
import { median } from '../../server/metrics/median';

const BREACHING_IG_RESNET18_IMAGENET_BATCH1_DB = 14.21;

async function main(): Promise<void> {
  const o = new Command()
    .option('--trials <n>', 'clients, one digit and one attack each', '5')
    .option('--iterations <n>', 'IG iterations', '2000')
    .option('--depth <n>', 'resnet depth (8, 14, 18, 20)', '8')
    .option('--tv <x>', 'total-variation weight', '1e-4')
    .option('--lr <x>', 'attack learning rate', '0.1')
    .option('--restarts <n>', 'IG restarts', '1')
    .option('--init <mean,std>', 'dummy start N(mean, std²) in pixels', '0,1')
    .option('--bn-weight <x>', 'batch-norm statistics prior weight (grants threat model E)', '0')
    .option('--out <dir>', 'run folder (default a temporary one)')
    .parse()
    .opts<Record<string, string>>();
  const trials = Number(o.trials);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-resnet-ig-'));
  const digits = loadDataset(dataSchema.parse({ dataset: 'mnist', limit: 20 * trials }), 0);
  const folder = writeImageFolder(digits, path.join(work, 'digits'), { shape: [32, 32, 3] });
  const scenario = validateScenario(
    {
      name: `resnet${o.depth}-ig-batch1`,
      seed: 1,
      ...(Number(o.bnWeight) > 0 ? { threatModel: 'E' } : {}),
      data: { dataset: 'image-folder', path: folder, partition: 'iid' },
      model: { name: 'resnet', depth: Number(o.depth) },
      federation: { clients: trials, clientsPerRound: trials, rounds: 1, algorithm: 'fedsgd', batchSize: 1, learningRate: 0.1 },
      attack: {
        name: 'inverting-gradients',
        iterations: Number(o.iterations),
        restarts: Number(o.restarts),
        learningRate: Number(o.lr),
        tvWeight: Number(o.tv),
        init: { mean: Number(o.init.split(',')[0]), std: Number(o.init.split(',')[1]) },
        ...(Number(o.bnWeight) > 0 ? { bnStatisticsWeight: Number(o.bnWeight) } : {}),
        rounds: [1],
        maxTargets: trials,
      },
    },
    'resnet-ig-eval',
  );
  const outDir = o.out ?? path.join(work, 'run');
  const results = await runScenario({ scenario, file: 'resnet-ig-eval', raw: {} }, { outDir, progress: false, log: () => undefined });
  const psnrs = results.attacks.map((a) => a.psnr);
  results.attacks.forEach((a) =>
    console.log(
      `${a.target}: PSNR ${a.psnr.toFixed(2)} dB, SSIM ${a.ssim.toFixed(3)}, label ${a.labelAccuracy}, ${a.seconds.toFixed(0)} s`,
    ),
  );
  console.log(
    `median PSNR over ${psnrs.length}: ${median(psnrs).toFixed(2)} dB (resnet${o.depth}, 32×32×3 MNIST digits, batch 1, ${o.iterations} iterations)`,
  );
  console.log(
    `breaching, IG on ResNet-18 / ImageNet, batch 1: ${BREACHING_IG_RESNET18_IMAGENET_BATCH1_DB} dB (ANCHORS §I; a different network and data)`,
  );
  console.log(`run folder: ${outDir}`);
  if (!o.out) fs.rmSync(path.join(work, 'digits'), { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
