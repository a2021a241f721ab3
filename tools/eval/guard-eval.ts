/**
 * inspect-parameters: false positives on honest models, detection of planted layers.
 *
 *   nice -n 10 node dist/tools/eval/guard-eval.js --seeds 200 --train-steps 60
 *
 * Honest: every built-in model (several configurations, fan-in and uniform(±0.5) inits) initialised
 * with `seeds` seeds; an MLP after plain SGD on MNIST (batch 32, lr 0.1), inspected every 10 steps.
 * Malicious: an imprint block in front of the MLP (bins 64–512, avg and fourier queries) and trap
 * weights in the MLP's first layer (factor 0.95, and calibrated to 1/8 and 1/32).
 */
import { buildModel } from '../../shared/models';
import { loadMnist } from '../../shared/data';
import { Rng } from '../../shared/random';
import { modelSchema, type ModelConfig } from '../../shared/models/schema';
import { initBackend } from '../../shared/tensor/backend';
import type { ImageShape } from '../../shared/models/types';
import { inspectParameters } from '../../client/guards/inspect-parameters';
import { buildImprintBlock, measurePublicStatistic, type ImprintQuery } from '../../server/malicious/imprint';
import { withImprintBlock } from '../../server/malicious/imprint-model';
import { calibrateTrapFactor, plantTrapWeights } from '../../server/malicious/trap-weights';
import { clientGradient, drawBatches } from './malicious-round';

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;

function honestConfigs(): { label: string; config: ModelConfig }[] {
  const raw: Record<string, unknown>[] = [
    { name: 'mlp' },
    { name: 'mlp', hidden: [100] },
    { name: 'mlp', hidden: [512, 256] },
    { name: 'mlp', hidden: [200], init: { kind: 'uniform', range: 0.5 } },
    { name: 'lenet-zhu' },
    { name: 'lenet-zhu', init: { kind: 'fan-in' } },
    { name: 'convnet' },
    { name: 'convnet', channels: [32, 64], hidden: [128] },
  ];
  return raw.map((r) => ({ label: JSON.stringify(r), config: modelSchema.parse(r) }));
}

function falsePositives(seeds: number): number {
  let flagged = 0;
  let total = 0;
  for (const { label, config } of honestConfigs()) {
    const model = buildModel(config, SHAPE, 10);
    let here = 0;
    for (let s = 0; s < seeds; s++) {
      const verdict = inspectParameters(model.specs, model.initParams(new Rng(s)));
      if (verdict.suspicious) {
        here++;
        if (here === 1) console.log(`  flagged ${label} seed ${s}: ${verdict.reason}`);
      }
    }
    console.log(`honest init ${label}: ${here} of ${seeds} flagged`);
    flagged += here;
    total += seeds;
  }
  console.log(`honest inits: ${flagged} of ${total} flagged`);
  return flagged;
}

function trainedFalsePositives(steps: number): void {
  const ds = loadMnist();
  const model = buildModel(modelSchema.parse({ name: 'mlp' }), SHAPE, 10);
  const params = model.initParams(new Rng(1));
  const rng = new Rng(2);
  const flagged: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const [batch] = drawBatches(ds, rng, 1, 32);
    const g = clientGradient(model, params, batch);
    for (let i = 0; i < params.length; i++) params[i] -= 0.1 * g[i];
    if (t % 10 === 0 && inspectParameters(model.specs, params).suspicious) flagged.push(t);
  }
  console.log(`mlp after SGD (batch 32, lr 0.1), inspected every 10 of ${steps} steps: flagged at [${flagged.join(', ')}]`);
}

function detection(seeds: number): void {
  const ds = loadMnist();
  const publicImages = ds.images.subarray((ds.labels.length - 500) * N);
  const head = buildModel(modelSchema.parse({ name: 'mlp', hidden: [100] }), SHAPE, 10);
  for (const query of [{ kind: 'avg' }, { kind: 'fourier', mode: 0 }, { kind: 'fourier', mode: 32 }] as ImprintQuery[]) {
    const stat = measurePublicStatistic(query, publicImages, 500, N);
    for (const bins of [64, 128, 256, 512]) {
      const model = withImprintBlock(head, buildImprintBlock({ inputSize: N, bins, query, statistic: stat }));
      let caught = 0;
      const rules = new Set<string>();
      for (let s = 0; s < seeds; s++) {
        const v = inspectParameters(model.specs, model.initParams(new Rng(s)));
        if (v.suspicious) caught++;
        v.findings.forEach((f) => rules.add(`${f.tensor}:${f.rule}`));
      }
      console.log(`imprint ${JSON.stringify(query)} bins ${bins}: caught ${caught} of ${seeds} (${[...rules].join(', ')})`);
    }
  }
  const mlp = buildModel(modelSchema.parse({ name: 'mlp' }), SHAPE, 10);
  for (const target of [null, 8, 32]) {
    let caught = 0;
    const rules = new Set<string>();
    for (let s = 0; s < seeds; s++) {
      const factor = target
        ? calibrateTrapFactor({ inputs: N, units: 200 }, 100 + s, publicImages.subarray(0, 100 * N), 100, 1 / target)
        : 0.95;
      const { params } = plantTrapWeights(mlp, mlp.initParams(new Rng(s)), new Rng(100 + s), { positiveFactor: factor });
      const v = inspectParameters(mlp.specs, params);
      if (v.suspicious) caught++;
      v.findings.forEach((f) => rules.add(`${f.tensor}:${f.rule}`));
    }
    console.log(
      `trap weights (factor ${target ? `calibrated to 1/${target}` : 0.95}): caught ${caught} of ${seeds} (${[...rules].join(', ')})`,
    );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (flag: string, fallback: number) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : fallback);
  await initBackend({ quiet: true });
  falsePositives(arg('--seeds', 200));
  trainedFalsePositives(arg('--train-steps', 60));
  detection(arg('--detect-seeds', 10));
}

main().catch((err: unknown) => {
  process.stderr.write(`guard-eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
