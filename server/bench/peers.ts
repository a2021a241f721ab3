/** The PyTorch peer (../shared/peers/dlg_torch.py) that `fedleak bench --torch` compares with. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TorchResult {
  msPerEval: number;
  python: string;
  raw: Record<string, unknown>;
}

/** Where the peer script lives: ../shared/peers/dlg_torch.py next to the repository. */
export function torchScriptPath(): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'peers', 'dlg_torch.py');
}

/**
 * Runs dlg_torch.py (evaluation timing only: --steps 1) with the first python that has torch.
 * Returns null with a reason when no interpreter can run it.
 */
export function runTorchPeer(opts: { size: number; channels: number; evals: number }): TorchResult | { error: string } {
  const script = torchScriptPath();
  if (!fs.existsSync(script)) return { error: `${script} not found` };
  const candidates = [process.env.FEDLEAK_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const errors: string[] = [];
  for (const python of candidates) {
    try {
      const out = execFileSync(
        python,
        [script, '--json', '--threads', '1', '--steps', '1', '--size', String(opts.size), '--channels', String(opts.channels), '--evals', String(opts.evals)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 },
      );
      const raw = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
      if (typeof raw.msPerEval === 'number') return { msPerEval: raw.msPerEval, python, raw };
      errors.push(`${python}: no msPerEval in output`);
    } catch (err) {
      errors.push(`${python}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { error: errors.join('; ') };
}
