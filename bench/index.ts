/**
 * `fedleak bench`: DLG objective evaluation speed (lenet-zhu on 1×32×32×3 and 1×28×28×1), a full
 * DLG run on a real MNIST digit, Inverting Gradients steps (bench/ig-step.ts on lenet-zhu, bench/ig-resnet.ts on
 * the CIFAR ResNet and an imported tfjs model), the runtime's round figures (bench/rounds.ts) and secure
 * aggregation's round latency (bench/secagg.ts).
 * Warm-up evaluations are excluded; figures are medians over several timed runs.
 */
import * as os from 'node:os';
import { initBackend } from '../shared/tensor/backend';
import { getConvImpl, withStockCpuKernels } from '../shared/tensor/fast-kernels';
import { setupDlgEval, dlgEvalStep, timeDlgEval, type TimingResult } from './dlg-eval';
import { profileKernels, type KernelTiming } from './kernel-profile';
import { runDlgFull, type DlgFullResult } from './dlg-full';
import { runTorchPeer } from './peers';
import { benchRounds } from './rounds';
import { benchSecagg } from './secagg';
import { benchRobustness, formatRobustness, ROBUSTNESS_DEFAULTS, type RobustnessCell } from './robustness';
import { benchPreauth, type PreauthResult } from './robustness-preauth';
import { benchIgSteps, type IgStepResult } from './ig-step';
import { benchIgNetworks, formatIgNetworks, type IgNetResult } from './ig-resnet';

export const BENCH_PARTS = ['dlg', 'full', 'ig', 'rounds', 'secagg', 'robustness', 'ig-resnet'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export interface BenchOptions {
  parts: ReadonlySet<BenchPart>;
  quick: boolean;
  /** Run the PyTorch peers (bench/*_torch.py, one thread) next to our timings and report the ratios. */
  torch: boolean;
  /** Also time the stock tfjs kernels (in this process, fewer evaluations). */
  stock: boolean;
  /** Per-kernel CPU time of one evaluation (1×32×32×3): calls and median CPU ms per evaluation. */
  profile: boolean;
  /** L-BFGS steps of the full DLG run (default 300, 30 with quick). */
  fullSteps?: number;
  /** Attack seed of the full DLG run (default DEFAULT_DLG_FULL_SEED). */
  fullSeed?: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface BenchResult {
  format: 'fedleak-bench/1';
  backend: string;
  fastKernels: boolean;
  convImpl: string | null;
  dlgEvalMs?: number;
  dlgEvalCpuMs?: number;
  dlgEvalRunsMs?: number[];
  dlgEvalMsMnist?: number;
  dlgEvalCpuMsMnist?: number;
  torchMsPerEval?: number;
  /** dlgEvalMs / torchMsPerEval (≤ 1 means at least as fast as PyTorch on one thread). */
  torchRatio?: number;
  torchError?: string;
  stockDlgEvalMs?: number;
  stockDlgEvalCpuMs?: number;
  profile?: KernelTiming[];
  stockProfile?: KernelTiming[];
  dlgFullSeconds?: number;
  psnr?: number;
  dlgFull?: DlgFullResult;
  /** Inverting Gradients ms per step, fedsgd and fedavg (with the PyTorch ratio under --torch). */
  ig?: IgStepResult[];
  /** Inverting Gradients ms per step on resnet depth 8 and an imported tfjs model, fedsgd batch 1 and 8 (bench/ig-resnet.ts). */
  igResnet?: IgNetResult[];
  rounds?: Record<string, unknown>;
  secagg?: Record<string, unknown>;
  /** Byzantine accuracy table (bench/robustness.ts) and pre-auth server memory (bench/robustness-preauth.ts). */
  robustness?: { byzantine: RobustnessCell[]; preauth: PreauthResult };
  machine: { node: string; cpus: number; loadAverage: number[] };
  [key: string]: unknown;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => undefined);
  const info = await initBackend({ quiet: true });
  const result: BenchResult = {
    format: 'fedleak-bench/1',
    backend: info.name,
    fastKernels: info.fastKernels,
    convImpl: info.fastKernels ? getConvImpl() : null,
    machine: { node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l, 2)) },
  };
  // Warm-up long enough for V8 to finish optimising tfjs's engine and our kernels (the first few
  // hundred evaluations still get faster); timed runs after it, median reported.
  const timing = options.quick ? { warmup: 20, runs: 3, evals: 10 } : { warmup: 100, runs: 9, evals: 30 };

  if (options.parts.has('dlg')) {
    if (options.torch) {
      log('bench: PyTorch peer (dlg_torch.py, one thread)…');
      const torch = runTorchPeer({ size: 32, channels: 3, evals: options.quick ? 20 : 50 });
      if ('error' in torch) result.torchError = torch.error;
      else result.torchMsPerEval = torch.msPerEval;
    }
    log('bench: DLG objective evaluation, lenet-zhu 1×32×32×3…');
    const cifar = timeDlgEval([32, 32, 3], 10, timing);
    applyTiming(result, cifar, '');
    if (result.torchMsPerEval !== undefined && result.dlgEvalMs !== undefined) {
      result.torchRatio = round(result.dlgEvalMs / result.torchMsPerEval);
    }
    log('bench: DLG objective evaluation, lenet-zhu 1×28×28×1…');
    applyTiming(result, timeDlgEval([28, 28, 1], 10, timing), 'Mnist');
    if (options.stock && info.fastKernels) {
      log('bench: the same with the stock tfjs kernels…');
      const stock = withStockCpuKernels(() => timeDlgEval([32, 32, 3], 10, { warmup: 2, runs: 3, evals: options.quick ? 2 : 5 }));
      result.stockDlgEvalMs = round(stock.medianMs);
      result.stockDlgEvalCpuMs = round(stock.medianCpuMs);
    }
    if (options.profile) {
      result.profile = profileOnce(options.quick ? 10 : 30);
      if (options.stock && info.fastKernels) result.stockProfile = withStockCpuKernels(() => profileOnce(options.quick ? 3 : 5));
    }
  }

  if (options.parts.has('full')) {
    const steps = options.fullSteps ?? (options.quick ? 30 : 300);
    log(`bench: full DLG attack on one MNIST digit, ${steps} L-BFGS steps…`);
    const full = await runDlgFull({ steps, seed: options.fullSeed });
    result.dlgFullSeconds = round(full.seconds, 2);
    result.psnr = round(full.psnr, 2);
    result.dlgFull = { ...full, seconds: round(full.seconds, 2), psnr: round(full.psnr, 2) };
  }

  if (options.parts.has('ig')) result.ig = await benchIgSteps({ quick: options.quick, torch: options.torch, log });
  if (options.parts.has('ig-resnet')) result.igResnet = await benchIgNetworks({ quick: options.quick, torch: options.torch, log });

  if (options.parts.has('rounds')) {
    log('bench: federated rounds (real client processes)…');
    result.rounds = await benchRounds({ clients: options.quick ? [10] : [10, 50], quick: options.quick, log });
  }

  if (options.parts.has('secagg')) {
    log('bench: secure aggregation rounds…');
    result.secagg = await benchSecagg({ clients: options.quick ? [10] : [10, 50], quick: options.quick, log });
  }

  if (options.parts.has('robustness')) {
    log('bench: Byzantine client × aggregation rule (real client processes), then pre-auth memory…');
    const byzantine = await benchRobustness(options.quick ? { ...ROBUSTNESS_DEFAULTS, rounds: 2 } : ROBUSTNESS_DEFAULTS, log);
    const preauth = await benchPreauth(options.quick ? 100 : 500, 2_500_000, log);
    result.robustness = { byzantine, preauth };
  }
  return result;
}

function applyTiming(result: BenchResult, t: TimingResult, suffix: '' | 'Mnist'): void {
  if (suffix === '') {
    result.dlgEvalMs = round(t.medianMs);
    result.dlgEvalCpuMs = round(t.medianCpuMs);
    result.dlgEvalRunsMs = t.runsMs.map((v) => round(v));
  } else {
    result.dlgEvalMsMnist = round(t.medianMs);
    result.dlgEvalCpuMsMnist = round(t.medianCpuMs);
  }
}

function profileOnce(repeats: number): KernelTiming[] {
  const s = setupDlgEval([32, 32, 3], 10);
  try {
    for (let i = 0; i < 3; i++) dlgEvalStep(s);
    return profileKernels(() => dlgEvalStep(s), repeats).map((k) => ({ ...k, totalMs: round(k.totalMs) }));
  } finally {
    s.dispose();
  }
}

/** The human summary printed without --json. */
export function formatBench(r: BenchResult): string {
  const lines: string[] = [];
  lines.push(
    `backend ${r.backend}${r.fastKernels ? ` (fedleak fast kernels, conv via ${r.convImpl})` : ''}, node ${r.machine.node}, ${r.machine.cpus} cpus, load ${r.machine.loadAverage.join(' ')}`,
  );
  if (r.dlgEvalMs !== undefined) {
    lines.push(`DLG objective evaluation, lenet-zhu 1×32×32×3: ${r.dlgEvalMs} ms (median; CPU ${r.dlgEvalCpuMs} ms)`);
  }
  if (r.torchMsPerEval !== undefined)
    lines.push(`  PyTorch, one thread, measured just before: ${r.torchMsPerEval} ms → ratio ${r.torchRatio}`);
  if (r.torchError) lines.push(`  PyTorch peer not run: ${r.torchError}`);
  if (r.stockDlgEvalMs !== undefined) lines.push(`  stock tfjs kernels: ${r.stockDlgEvalMs} ms (CPU ${r.stockDlgEvalCpuMs} ms)`);
  if (r.dlgEvalMsMnist !== undefined)
    lines.push(`DLG objective evaluation, lenet-zhu 1×28×28×1: ${r.dlgEvalMsMnist} ms (CPU ${r.dlgEvalCpuMsMnist} ms)`);
  for (const [title, prof] of [
    ['per-kernel CPU ms per evaluation', r.profile],
    ['stock kernels', r.stockProfile],
  ] as const) {
    if (!prof) continue;
    lines.push(`${title}:`);
    for (const k of prof.slice(0, 12))
      lines.push(`  ${k.kernel.padEnd(22)} ${String(k.calls).padStart(4)} calls ${k.totalMs.toFixed(3).padStart(9)} ms`);
  }
  if (r.dlgFull) {
    const f = r.dlgFull;
    lines.push(
      `Full DLG on MNIST example ${f.digitIndex} (seed ${f.seed}): ${f.seconds} s, ${f.steps} L-BFGS steps, ${f.evaluations} evaluations, PSNR ${f.psnr} dB, label ${f.labelRecovered ? 'recovered' : 'wrong'}`,
    );
  }
  for (const g of r.ig ?? []) {
    const peer =
      g.torchMsPerStep !== undefined
        ? `; PyTorch one thread ${g.torchMsPerStep} ms → ratio ${g.torchRatio}`
        : g.torchError
          ? `; PyTorch peer not run: ${g.torchError}`
          : '';
    lines.push(
      `Inverting Gradients ${g.mode} (lenet-zhu, MNIST): ${g.msPerStep} ms per step over ${g.steps} steps (4800 steps ≈ ${g.projected4800Seconds} s)${peer}`,
    );
  }
  if (r.igResnet) lines.push(...formatIgNetworks(r.igResnet));
  for (const [title, part] of [
    ['rounds', r.rounds],
    ['secagg', r.secagg],
  ] as const) {
    if (part) lines.push(`${title}: ${JSON.stringify(part)}`);
  }
  if (r.robustness) {
    const p = r.robustness.preauth;
    lines.push('final test accuracy, fedavg-mnist (reduced), one Byzantine client of 5:', formatRobustness(r.robustness.byzantine));
    lines.push(
      `pre-auth: ${p.connections} upgraded peers without hello: server RSS ${p.baselineMb} → ${p.idleMb} MB idle → ${p.partialFramesMb} MB with ${p.frameBytes - 1} bytes of a ${p.frameBytes}-byte frame each; ${p.closedByServer} closed by the server`,
    );
  }
  return lines.join('\n');
}
