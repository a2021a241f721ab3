/**
 * The PyTorch peers `fedleak bench --torch` compares with: ../shared/peers/dlg_torch.py (the DLG
 * objective) and bench/ig_torch.py (one Inverting Gradients step), both on one thread.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TorchResult {
  msPerEval: number;
  python: string;
  raw: Record<string, unknown>;
}

/** Where the DLG peer lives: ../shared/peers/dlg_torch.py next to the repository. */
export function torchScriptPath(): string {
  return path.resolve(__dirname, '..', '..', '..', 'shared', 'peers', 'dlg_torch.py');
}

/** Our own IG peer, in the source tree (dist/bench → bench). */
export function igTorchScriptPath(): string {
  return path.resolve(__dirname, '..', '..', 'bench', 'ig_torch.py');
}

/**
 * Runs a peer script with the first python that has torch and reads the number `field` from the
 * JSON on its last output line. Returns a reason when no interpreter can run it.
 */
function runPeer(script: string, args: string[], field: string): TorchResult | { error: string } {
  if (!fs.existsSync(script)) return { error: `${script} not found` };
  const candidates = [process.env.FEDLEAK_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const errors: string[] = [];
  for (const python of candidates) {
    try {
      const out = execFileSync(python, [script, '--json', '--threads', '1', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120000,
      });
      const raw = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
      const value = raw[field];
      if (typeof value === 'number') return { msPerEval: value, python, raw };
      errors.push(`${python}: no ${field} in output`);
    } catch (err) {
      errors.push(`${python}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { error: errors.join('; ') };
}

/** dlg_torch.py, evaluation timing only (--steps 1). */
export function runTorchPeer(opts: { size: number; channels: number; evals: number }): TorchResult | { error: string } {
  return runPeer(
    torchScriptPath(),
    ['--steps', '1', '--size', String(opts.size), '--channels', String(opts.channels), '--evals', String(opts.evals)],
    'msPerEval',
  );
}

/** ig_torch.py: ms per Inverting Gradients step (fedsgd batch 4, or fedavg 2 steps × batch 2). */
export function runIgTorchPeer(opts: { mode: 'fedsgd' | 'fedavg'; steps: number }): TorchResult | { error: string } {
  return runPeer(igTorchScriptPath(), ['--mode', opts.mode, '--steps', String(opts.steps)], 'msPerStep');
}
