/** `fedleak bench`: attack and protocol speed figures (see bench/index.ts). */
import type { Command } from 'commander';
import { UserError } from './errors';
import { BENCH_PARTS, formatBench, runBench, type BenchPart } from '../../bench';

function parseParts(raw: string | undefined): Set<BenchPart> {
  if (raw === undefined) return new Set(BENCH_PARTS);
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const bad = parts.filter((p) => !(BENCH_PARTS as readonly string[]).includes(p));
  if (bad.length > 0 || parts.length === 0) {
    throw new UserError(
      `--only: unknown part${bad.length === 1 ? '' : 's'} ${bad.join(', ') || '(none given)'}; choose from ${BENCH_PARTS.join(', ')}`,
    );
  }
  return new Set(parts as BenchPart[]);
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'Time the DLG objective (lenet-zhu, 32×32×3 and 28×28×1), a full DLG run on an MNIST digit, Inverting Gradients steps (lenet-zhu fedsgd and fedavg; resnet depth 8 and an imported tfjs model, batch 1 and 8), federated rounds, secure aggregation, and robustness (Byzantine accuracy table, pre-auth memory).',
    )
    .option('--json', 'print one JSON object instead of the summary')
    .option('--only <parts>', `comma-separated parts to run: ${BENCH_PARTS.join(', ')}`)
    .option('--quick', 'fewer timed runs and a 30-step DLG run')
    .option(
      '--torch',
      'run the PyTorch peers (one thread: bench/dlg_torch.py, bench/ig_torch.py, bench/ig_resnet_torch.py) and report the ratios',
    )
    .option('--stock', 'also time the stock tfjs cpu kernels')
    .option('--profile', 'per-kernel CPU time of one evaluation')
    .option('--full-steps <n>', 'L-BFGS steps of the full DLG run (default 300)')
    .option('--full-seed <n>', 'attack seed of the full DLG run (default 1)')
    .action(
      async (opts: {
        json?: boolean;
        only?: string;
        quick?: boolean;
        torch?: boolean;
        stock?: boolean;
        profile?: boolean;
        fullSteps?: string;
        fullSeed?: string;
      }) => {
        const parts = parseParts(opts.only);
        let fullSteps: number | undefined;
        if (opts.fullSteps !== undefined) {
          fullSteps = Number(opts.fullSteps);
          if (!Number.isInteger(fullSteps) || fullSteps < 1)
            throw new UserError(`--full-steps: expected a positive integer, got "${opts.fullSteps}"`);
        }
        let fullSeed: number | undefined;
        if (opts.fullSeed !== undefined) {
          fullSeed = Number(opts.fullSeed);
          if (!Number.isInteger(fullSeed) || fullSeed < 0)
            throw new UserError(`--full-seed: expected a non-negative integer, got "${opts.fullSeed}"`);
        }
        const result = await runBench({
          parts,
          quick: !!opts.quick,
          torch: !!opts.torch,
          stock: !!opts.stock,
          profile: !!opts.profile,
          fullSteps,
          fullSeed,
          log: opts.json ? undefined : (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatBench(result)}\n`);
      },
    );
}
