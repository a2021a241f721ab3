/**
 * Progress lines on stderr while a run works: one per round (accuracy, loss, drops), and for each
 * attack a start line, an "iteration i/N, objective" line at most every `intervalMs` per attack,
 * and a result line.
 *
 * Usage: const detach = attachProgressPrinter(events);  …  detach();
 */
import type { AttackJobId, RunEvents, RunEventMap } from './events';

export interface ProgressOptions {
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  /** Minimum time between two iteration lines of the same attack. */
  intervalMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

function jobKey(id: AttackJobId): string {
  return `${id.round}/${id.target}/${id.view}`;
}

function jobName(id: AttackJobId): string {
  const seen = id.view === 'plain' || id.target === id.view ? '' : ` (${id.view})`;
  return `attack ${id.attack} on round ${id.round} ${id.target}${seen}`;
}

/** Subscribes to the run's events; returns a function that unsubscribes. */
export function attachProgressPrinter(events: RunEvents, options: ProgressOptions = {}): () => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const interval = options.intervalMs ?? 2000;
  const now = options.now ?? Date.now;
  const lastLine = new Map<string, number>();
  const planned = new Map<string, number>();

  const onRound = (...[r, total]: RunEventMap['round']) => {
    const dropped = r.dropped.length ? `, dropped ${r.dropped.join(', ')}` : '';
    write(
      `round ${r.round}/${total}: test accuracy ${(100 * r.testAccuracy).toFixed(1)}%, loss ${r.testLoss.toFixed(4)}, ` +
        `${r.participants.length - r.dropped.length}/${r.participants.length} updates${dropped} (${r.seconds.toFixed(1)} s)`,
    );
  };
  const onStart = (...[e]: RunEventMap['attack-start']) => {
    planned.set(jobKey(e), e.iterations);
    lastLine.set(jobKey(e), now());
    write(`${jobName(e)}: started`);
  };
  const onProgress = (...[e]: RunEventMap['attack-progress']) => {
    const key = jobKey(e);
    const t = now();
    if (t - (lastLine.get(key) ?? -Infinity) < interval) return;
    lastLine.set(key, t);
    const of = e.total ?? planned.get(key);
    write(`${jobName(e)}: iteration ${e.iteration}${of ? `/${of}` : ''}, objective ${e.objective.toExponential(3)}`);
  };
  const onDone = (...[{ record: a }]: RunEventMap['attack-done']) => {
    const key = jobKey({ round: a.round, target: a.target, view: a.view, attack: a.attack });
    lastLine.delete(key);
    planned.delete(key);
    if (a.error) {
      write(`${jobName(a)}: failed: ${a.error}`);
      return;
    }
    const psnr = Number.isFinite(a.psnr) ? `${a.psnr.toFixed(2)} dB` : a.psnr === Infinity ? '∞' : 'n/a';
    write(
      `${jobName(a)}: PSNR ${psnr}, SSIM ${a.ssim.toFixed(3)}, MSE ${a.mse.toExponential(2)}, labels ${(100 * a.labelAccuracy).toFixed(0)}% ` +
        `(${a.iterations} iterations, ${a.evaluations} evaluations, ${a.seconds.toFixed(1)} s)${a.image ? ` → ${a.image}` : ''}`,
    );
  };

  events.on('round', onRound);
  events.on('attack-start', onStart);
  events.on('attack-progress', onProgress);
  events.on('attack-done', onDone);
  return () => {
    events.off('round', onRound);
    events.off('attack-start', onStart);
    events.off('attack-progress', onProgress);
    events.off('attack-done', onDone);
  };
}
