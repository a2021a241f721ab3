/**
 * `fedleak invert --api URL --key K`: black-box MI-FACE against any endpoint that speaks the
 * prediction protocol (docs/release.md). Writes the inversions (PNG) and a JSON summary.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PredictClient } from '../../server/release/client';
import { BlackBoxOracle } from '../../server/release/oracles';
import { miFace } from '../../server/release/mi-face';
import { miFaceSchema, type MiFaceConfig } from '../../server/release/schema';
import { writeImageGrid } from '../../server/report/png';
import { UserError } from './errors';

interface InvertOptions {
  api: string;
  key?: string;
  classes?: string;
  iterations: string;
  patience: string;
  threshold: string;
  step: string;
  process: string;
  estimator: string;
  directions: string;
  delta: string;
  maxQueries: string;
  seed: string;
  out: string;
}

function num(text: string, flag: string, ok: (n: number) => boolean, expected: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UserError(`${flag} ${text}: expected ${expected}`);
  return n;
}

export function invertConfig(opts: InvertOptions): MiFaceConfig {
  const int = (n: number) => Number.isInteger(n) && n > 0;
  if (!['clip', 'identity'].includes(opts.process)) throw new UserError(`--process ${opts.process}: expected clip or identity`);
  if (!['forward', 'antithetic'].includes(opts.estimator))
    throw new UserError(`--estimator ${opts.estimator}: expected forward or antithetic`);
  const classes = opts.classes
    ?.split(',')
    .map((c) => num(c, '--classes', (n) => Number.isInteger(n) && n >= 0, 'comma-separated class indices, e.g. 0,3,7'));
  return miFaceSchema.parse({
    name: 'mi-face',
    access: 'black-box',
    classes,
    iterations: num(opts.iterations, '--iterations', int, 'a positive integer (α)'),
    patience: num(opts.patience, '--patience', int, 'a positive integer (β)'),
    costThreshold: num(opts.threshold, '--threshold', (n) => n >= 0 && n <= 1, 'a cost in [0, 1] (γ)'),
    stepSize: num(opts.step, '--step', (n) => n > 0, 'a positive step (λ)'),
    process: opts.process,
    estimator: {
      kind: opts.estimator,
      directions: num(opts.directions, '--directions', int, 'a positive integer'),
      delta: num(opts.delta, '--delta', (n) => n > 0, 'a positive difference step'),
    },
    maxQueries: num(opts.maxQueries, '--max-queries', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0 (0 = no budget)'),
  });
}

export function registerInvertCommand(program: Command): void {
  program
    .command('invert')
    .description('black-box MI-FACE (Fredrikson et al. 2015) through a prediction API speaking the protocol of docs/release.md')
    .requiredOption('--api <url>', 'base URL of the API, e.g. http://127.0.0.1:8788')
    .option('--key <key>', 'API key (default: the FEDLEAK_API_KEY environment variable, which keeps it out of the process list)')
    .option('--classes <list>', 'target classes, e.g. 0,1,2 (default: all)')
    .option('--iterations <n>', 'α: maximum steps per class', '5000')
    .option('--patience <n>', 'β: stop when the cost is no lower than the max of the last β', '100')
    .option('--threshold <c>', 'γ: stop when the cost is at most this', '0.01')
    .option('--step <l>', 'λ: gradient step', '0.1')
    .option('--process <p>', 'after each step: clip (into [0, 1]) | identity', 'clip')
    .option('--estimator <e>', 'gradient estimate: forward | antithetic', 'forward')
    .option('--directions <n>', 'random directions per estimate', '20')
    .option('--delta <d>', 'finite-difference step', '0.001')
    .option('--max-queries <n>', 'query budget per class (0 = none)', '0')
    .option('--seed <n>', 'seed of the random directions', '0')
    .option('-o, --out <dir>', 'output folder', 'invert-out')
    .action(async (opts: InvertOptions) => {
      const key = opts.key ?? process.env.FEDLEAK_API_KEY;
      if (!key) throw new UserError('no API key: give --key KEY or set FEDLEAK_API_KEY');
      let base: URL;
      try {
        base = new URL(opts.api);
      } catch {
        throw new UserError(`--api ${opts.api}: not a URL (expected e.g. http://127.0.0.1:8788)`);
      }
      const config = invertConfig(opts);
      const client = new PredictClient(base.toString(), key);
      const info = await client.modelInfo();
      const size = info.inputShape.reduce((a, b) => a * b, 1);
      const labels = config.classes ?? Array.from({ length: info.numClasses }, (_, i) => i);
      const bad = labels.find((l) => l >= info.numClasses);
      if (bad !== undefined) throw new UserError(`--classes: class ${bad} does not exist (the model has ${info.numClasses})`);
      const oracle = new BlackBoxOracle(
        client,
        config.estimator,
        num(opts.seed, '--seed', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'),
      );
      const started = performance.now();
      const results = await miFace(oracle, labels, size, config, (r) =>
        process.stderr.write(
          `class ${r.label}: cost ${r.cost.toFixed(4)} after ${r.iterations} steps, ${r.queries} queries (${r.stoppedBy})\n`,
        ),
      );
      const outDir = path.resolve(opts.out);
      fs.mkdirSync(outDir, { recursive: true });
      const images = new Float32Array(results.length * size);
      results.forEach((r, i) => images.set(r.image, i * size));
      writeImageGrid(path.join(outDir, 'inversions.png'), [{ images, count: results.length }], info.inputShape);
      const summary = {
        api: base.toString(),
        masking: info.masking,
        seconds: (performance.now() - started) / 1000,
        ...client.stats,
        classes: results.map((r) => ({
          label: r.label,
          cost: r.cost,
          iterations: r.iterations,
          queries: r.queries,
          stoppedBy: r.stoppedBy,
        })),
      };
      fs.writeFileSync(path.join(outDir, 'invert.json'), `${JSON.stringify(summary, null, 2)}\n`);
      process.stdout.write(
        `${results.length} classes inverted with ${client.stats.queries} queries (${client.stats.requests} requests, ${client.stats.rateLimited} answered 429); ${path.join(outDir, 'inversions.png')}\n`,
      );
    });
}
