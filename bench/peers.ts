/**
 * The PyTorch peers `fedleak bench --torch` compares with, all in bench/ and all on one thread:
 * dlg_torch.py (the DLG objective), ig_torch.py (one Inverting Gradients step on lenet-zhu) and
 * ig_resnet_torch.py (one Inverting Gradients step on the CIFAR ResNet or the bench's imported model).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TorchResult {
  msPerEval: number;
  python: string;
  raw: Record<string, unknown>;
}

/** The peer scripts stay in the source tree and ship with the package ("files": bench/*.py): dist/bench → bench. */
export function peerScriptPath(script: 'dlg_torch.py' | 'ig_torch.py' | 'ig_resnet_torch.py'): string {
  return path.resolve(__dirname, '..', '..', 'bench', script);
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
    peerScriptPath('dlg_torch.py'),
    ['--steps', '1', '--size', String(opts.size), '--channels', String(opts.channels), '--evals', String(opts.evals)],
    'msPerEval',
  );
}

/** ig_torch.py: ms per Inverting Gradients step (fedsgd batch 4, or fedavg 2 steps × batch 2). */
export function runIgTorchPeer(opts: { mode: 'fedsgd' | 'fedavg'; steps: number }): TorchResult | { error: string } {
  return runPeer(peerScriptPath('ig_torch.py'), ['--mode', opts.mode, '--steps', String(opts.steps)], 'msPerStep');
}

/** The network ig_resnet_torch.py runs: fedleak's `resnet` or the bench's imported residual CNN. */
export type IgResnetPeerNet = { net: 'resnet'; depth: 8 | 14 | 18 | 20; width: number } | { net: 'residual-cnn' };

function igResnetNetArgs(n: IgResnetPeerNet): string[] {
  return n.net === 'resnet' ? ['--net', 'resnet', '--depth', String(n.depth), '--width', String(n.width)] : ['--net', n.net];
}

/** ig_resnet_torch.py: ms per fedsgd Inverting Gradients step; `raw.params` is its trainable parameter count. */
export function runIgResnetTorchPeer(
  opts: IgResnetPeerNet & { batch: number; steps: number; warmup: number },
): TorchResult | { error: string } {
  const args = [...igResnetNetArgs(opts), '--batch', String(opts.batch), '--steps', String(opts.steps), '--warmup', String(opts.warmup)];
  return runPeer(peerScriptPath('ig_resnet_torch.py'), args, 'msPerStep');
}
