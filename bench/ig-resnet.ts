/**
 * Inverting Gradients speed on real networks, fedsgd batch 1 and 8 on 32×32×3 images, 10 classes:
 * fedleak's CIFAR ResNet (model `resnet`, depth 8, width 1) and an imported tfjs model (the small
 * residual CNN of bench/imported-model.ts, saved to a temp folder and loaded as model `tfjs-layers`).
 * Both go through the generic model path (scenario `model` section → definition → model) and the
 * attack itself, like bench/ig-step.ts: ms per attack step, the attack's set-up (label inference,
 * screening, final scoring) spread over the steps; images and labels are random (speed does not
 * depend on content). Under `--torch`, bench/ig_resnet_torch.py runs the same network and step on
 * one thread; the ratio is reported only when both sides count the same trainable parameters.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { Rng } from '../shared/random';
import { definitionFor, flattenParams, initialParamsFor, modelFromDefinition, oneHot, unflattenParams } from '../shared/models';
import { paramCount, type ImageShape, type Model } from '../shared/models/types';
import { attackSchema, modelSchema, type ModelConfig } from '../server/scenario/schema';
import { attackInput } from '../server/observer/attack-input';
import type { AttackInput } from '../server/observer/attacks/types';
import { invertingGradients } from '../server/observer/attacks/inverting-gradients';
import { parameterGradients } from '../server/observer/gradient-matching';
import { simulatedObservation } from '../tools/eval/eval-trials';
import { residualCnn, saveLayersModel, RESIDUAL_CNN_CLASSES, RESIDUAL_CNN_SHAPE } from './imported-model';
import { runIgResnetTorchPeer, type IgResnetPeerNet } from './peers';
import { cpuMs } from './kernel-profile';

export interface IgNetCase {
  /** Shown in the output: "resnet depth 8", "imported residual CNN". */
  label: string;
  /**
   * The scenario's `model` section. Loose on purpose: it is validated by the scenario schema at run
   * time, so a case may name a model another branch registers (the `resnet` entry).
   */
  model: Record<string, unknown>;
  batch: number;
  /** The same network for the PyTorch peer. */
  peer: IgResnetPeerNet;
}

export interface IgNetResult {
  label: string;
  batch: number;
  /** fedleak's trained parameter count: the model's specs without state (batch norm's moving statistics), as PyTorch counts parameters. */
  params?: number;
  msPerStep?: number;
  /** This process's CPU ms per step (user + system; V8's GC threads included): steadier than wall time under load. */
  cpuMsPerStep?: number;
  /** Steps per timed run. */
  steps?: number;
  runsMs?: number[];
  torchParams?: number;
  torchMsPerStep?: number;
  torchCpuMsPerStep?: number;
  /** msPerStep / torchMsPerStep (the issue's goal: ≤ 1.5). */
  torchRatio?: number;
  /** cpuMsPerStep / torchCpuMsPerStep. */
  torchCpuRatio?: number;
  torchError?: string;
  /** Why fedleak's side did not run (e.g. the model is not registered). */
  error?: string;
}

const SHAPE: ImageShape = RESIDUAL_CNN_SHAPE;
const CLASSES = RESIDUAL_CNN_CLASSES;
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** The client's fedsgd gradient on a random batch, as the server would observe it, and the attack's input. */
export function igInputOn(config: ModelConfig, batch: number, iterations: number, seed = 0): { input: AttackInput; model: Model } {
  const rng = new Rng(seed);
  const model = modelFromDefinition(definitionFor(config, SHAPE, CLASSES));
  const globalParams = initialParamsFor(config) ?? model.initParams(rng.fork('model'));
  const images = rng.fork('images').fillUniform(new Float32Array(batch * SHAPE[0] * SHAPE[1] * SHAPE[2]), 0, 1);
  const labelRng = rng.fork('labels');
  const labels = Array.from({ length: batch }, () => labelRng.int(CLASSES));
  const params = unflattenParams(globalParams, model.specs);
  const update = tf.tidy(() =>
    flattenParams(
      parameterGradients(model, params, tf.tensor4d(images, [batch, ...SHAPE]) as Tensor4D, oneHot(labels, CLASSES)),
      model.specs,
    ),
  );
  tf.dispose(params);
  const training = { algorithm: 'fedsgd' as const, batchSize: batch, localSteps: 1, learningRate: 0.1, localEpochs: 0 };
  const { observed, payload } = simulatedObservation({
    model: config,
    inputShape: SHAPE,
    numClasses: CLASSES,
    globalParams,
    update,
    kind: 'gradient',
    training,
    numExamples: batch,
  });
  // bench/ig_torch.py's step: Adam lr 0.03 on the signed gradient, TV 1e-4, one restart.
  const settings = attackSchema.parse({ name: 'inverting-gradients', iterations, restarts: 1, learningRate: 0.03, tvWeight: 1e-4 });
  return { input: attackInput(observed, payload, { settings, seed }), model };
}

/** The case's `model` section validated as a scenario's; a fault names the field (e.g. an unregistered model.name). */
function modelConfigOf(raw: Record<string, unknown>): ModelConfig {
  const parsed = modelSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new Error(parsed.error.issues.map((i) => `${['model', ...i.path].join('.')}: ${i.message}`).join('; '));
}

interface Timing {
  warmupSteps: number;
  steps: number;
  runs: number;
}

/** Parameters trained by gradient: the specs without the state entries (batch norm's moving statistics, PyTorch's buffers). */
export function trainedParamCount(model: Model): number {
  const state = new Set(model.stateParams);
  return paramCount(model.specs.filter((_s, i) => !state.has(i)));
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type FedleakTiming = Pick<IgNetResult, 'params' | 'msPerStep' | 'cpuMsPerStep' | 'steps' | 'runsMs'>;

/** fedleak's side of one case: a short untimed attack (V8 and the kernels warm up), then `runs` timed attacks. */
async function timeFedleak(c: IgNetCase, t: Timing): Promise<FedleakTiming> {
  const config = modelConfigOf(c.model);
  const warm = igInputOn(config, c.batch, t.warmupSteps);
  await invertingGradients(warm.input);
  const runsMs: number[] = [];
  const cpuRunsMs: number[] = [];
  for (let r = 0; r < t.runs; r++) {
    const { input } = igInputOn(config, c.batch, t.steps, r + 1);
    const cpuStart = cpuMs();
    const out = await invertingGradients(input);
    cpuRunsMs.push((cpuMs() - cpuStart) / out.iterations);
    runsMs.push((1000 * out.seconds) / out.iterations);
  }
  return {
    params: trainedParamCount(warm.model),
    msPerStep: round(median(runsMs)),
    cpuMsPerStep: round(median(cpuRunsMs)),
    steps: t.steps,
    runsMs: runsMs.map((v) => round(v)),
  };
}

function withTorch(result: IgNetResult, c: IgNetCase, t: Timing): IgNetResult {
  const torch = runIgResnetTorchPeer({ ...c.peer, batch: c.batch, steps: t.steps, warmup: t.warmupSteps });
  if ('error' in torch) return { ...result, torchError: torch.error };
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const torchParams = num(torch.raw.params);
  const torchCpu = num(torch.raw.cpuMsPerStep);
  const out: IgNetResult = {
    ...result,
    torchParams,
    torchMsPerStep: round(torch.msPerEval),
    ...(torchCpu !== undefined ? { torchCpuMsPerStep: round(torchCpu) } : {}),
  };
  if (result.params === undefined || result.msPerStep === undefined) return out;
  if (torchParams !== result.params) {
    return { ...out, torchError: `not the same network: fedleak has ${result.params} parameters, the PyTorch peer ${torchParams ?? '?'}` };
  }
  const cpuRatio = torchCpu && result.cpuMsPerStep !== undefined ? { torchCpuRatio: round(result.cpuMsPerStep / torchCpu, 2) } : {};
  return { ...out, torchRatio: round(result.msPerStep / torch.msPerEval, 2), ...cpuRatio };
}

/** The bench's default cases: resnet depth 8 and the imported residual CNN (its model.json at `importedModelJson`), batch 1 and 8. */
export function defaultIgNetCases(importedModelJson: string): IgNetCase[] {
  const nets: Omit<IgNetCase, 'batch'>[] = [
    { label: 'resnet depth 8', model: { name: 'resnet', depth: 8, width: 1 }, peer: { net: 'resnet', depth: 8, width: 1 } },
    { label: 'imported residual CNN', model: { name: 'tfjs-layers', path: importedModelJson }, peer: { net: 'residual-cnn' } },
  ];
  return nets.flatMap((n) => [1, 8].map((batch) => ({ ...n, batch })));
}

/**
 * Saves the imported model to a temp folder and runs the cases made from its model.json path
 * (default: defaultIgNetCases); one case's failure does not stop the others.
 */
export async function benchIgNetworks(opts: {
  quick: boolean;
  torch: boolean;
  log: (line: string) => void;
  cases?: (importedModelJson: string) => IgNetCase[];
}): Promise<IgNetResult[]> {
  const timing: Timing = opts.quick ? { warmupSteps: 2, steps: 5, runs: 1 } : { warmupSteps: 5, steps: 20, runs: 3 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-bench-model-'));
  try {
    const cases = (opts.cases ?? defaultIgNetCases)(await saveLayersModel(residualCnn(), dir));
    const results: IgNetResult[] = [];
    for (const c of cases) {
      opts.log(`bench: inverting-gradients on ${c.label}, fedsgd batch ${c.batch}, ${timing.runs} × ${timing.steps} steps…`);
      let result: IgNetResult = { label: c.label, batch: c.batch };
      try {
        result = { ...result, ...(await timeFedleak(c, timing)) };
      } catch (err) {
        result.error = (err as Error).message.split('\n')[0];
      }
      if (opts.torch) {
        opts.log(`bench: PyTorch peer (ig_resnet_torch.py --net ${c.peer.net} --batch ${c.batch}, one thread)…`);
        result = withTorch(result, c, timing);
      }
      results.push(result);
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per case for the human summary. */
export function formatIgNetworks(results: readonly IgNetResult[]): string[] {
  return results.map((r) => {
    const head = `Inverting Gradients fedsgd on ${r.label}, 32×32×3 batch ${r.batch}`;
    const ours = r.error
      ? `not run: ${r.error}`
      : `${r.msPerStep} ms per step, CPU ${r.cpuMsPerStep} ms (${r.params} parameters, median of ${r.runsMs?.length} runs × ${r.steps} steps)`;
    const peer =
      r.torchRatio !== undefined
        ? `; PyTorch one thread ${r.torchMsPerStep} ms, CPU ${r.torchCpuMsPerStep} ms → ratio ${r.torchRatio} (CPU ${r.torchCpuRatio})`
        : r.torchError
          ? `; PyTorch peer: ${r.torchError}`
          : r.torchMsPerStep !== undefined
            ? `; PyTorch one thread ${r.torchMsPerStep} ms (${r.torchParams} parameters)`
            : '';
    return `${head}: ${ours}${peer}`;
  });
}
