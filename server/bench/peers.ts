/**
 * Optional parts of `fedleak bench` written by other work streams (server/bench/rounds.ts,
 * server/bench/secagg.ts) and the PyTorch peer script. Loaded at run time so that the bench
 * builds and runs whether or not they exist yet.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

type BenchFn = (opts: Record<string, unknown>) => Promise<Record<string, unknown>>;

function loadModule(name: string): Record<string, unknown> | null {
  const file = path.join(__dirname, `${name}.js`);
  if (!fs.existsSync(file)) return null;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(file) as Record<string, unknown>;
}

/** The named export, else the module's first exported function whose name starts with "bench". */
export function benchFunction(moduleName: string, exportName: string): BenchFn | null {
  const mod = loadModule(moduleName);
  if (!mod) return null;
  const named = mod[exportName];
  if (typeof named === 'function') return named as BenchFn;
  const fallback = Object.entries(mod).find(([k, v]) => k.startsWith('bench') && typeof v === 'function');
  return fallback ? (fallback[1] as BenchFn) : null;
}

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
