/**
 * Inverting Gradients speed: ms per attack step (value + gradient of cosine matching + TV w.r.t. the
 * dummy batch, then the signed-Adam update) through the attack itself, on real MNIST digits:
 * fedsgd batch 4 and fedavg 2 local steps × batch 2, lenet-zhu, with the built-in scenarios'
 * attack settings and client lr (one restart). The figure includes the attack's set-up (label inference, screening bookkeeping),
 * spread over the steps; a short untimed run first lets V8 optimise.
 */
import { loadMnist } from '../shared/data';
import { invertingGradients } from '../server/observer/attacks/inverting-gradients';
import { makeTrial, type TrialCaseName } from '../tools/eval/eval-trials';
import { loadScenario } from '../server/scenario/load';
import { runIgTorchPeer } from './peers';

export interface IgStepResult {
  mode: 'fedsgd' | 'fedavg';
  /** Wall ms per attack step, over `steps` steps (screening included). */
  msPerStep: number;
  steps: number;
  /** What a 4800-step attack (the scenarios' setting) costs at this speed, screening excluded. */
  projected4800Seconds: number;
  torchMsPerStep?: number;
  /** msPerStep / torchMsPerStep (≤ 1: at least as fast as PyTorch on one thread). */
  torchRatio?: number;
  torchError?: string;
}

const CASE_OF: Record<IgStepResult['mode'], TrialCaseName> = { fedsgd: 'ig-fedsgd', fedavg: 'ig-fedavg' };
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

export async function benchIgSteps(opts: { quick: boolean; torch: boolean; log: (line: string) => void }): Promise<IgStepResult[]> {
  const ds = loadMnist();
  const iterations = opts.quick ? 50 : 300;
  const results: IgStepResult[] = [];
  for (const mode of ['fedsgd', 'fedavg'] as const) {
    // The built-in scenario's attack settings and client lr; steps and restarts are the bench's own.
    const { scenario } = loadScenario(`inverting-gradients-${mode}`);
    const attack = {
      learningRate: scenario.attack.learningRate,
      tvWeight: scenario.attack.tvWeight,
      init: scenario.attack.init,
      restarts: 1,
    };
    const clientLr = scenario.federation.learningRate;
    opts.log(`bench: inverting-gradients ${mode}, ${iterations} steps…`);
    await invertingGradients(makeTrial(CASE_OF[mode], 1, ds, clientLr, { ...attack, iterations: 20 }).input);
    const out = await invertingGradients(makeTrial(CASE_OF[mode], 1, ds, clientLr, { ...attack, iterations }).input);
    const msPerStep = (1000 * out.seconds) / out.iterations;
    const result: IgStepResult = {
      mode,
      msPerStep: round(msPerStep),
      steps: out.iterations,
      projected4800Seconds: round((msPerStep * 4800) / 1000, 1),
    };
    if (opts.torch) {
      opts.log(`bench: PyTorch peer (ig_torch.py --mode ${mode}, one thread)…`);
      const torch = runIgTorchPeer({ mode, steps: opts.quick ? 20 : 100 });
      if ('error' in torch) result.torchError = torch.error;
      else {
        result.torchMsPerStep = round(torch.msPerEval);
        result.torchRatio = round(msPerStep / torch.msPerEval, 2);
      }
    }
    results.push(result);
  }
  return results;
}
