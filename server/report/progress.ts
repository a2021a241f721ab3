/**
 * Progress on stderr while a run works. On a terminal: bars (progress-bars.ts). Otherwise plain
 * lines: one per round (accuracy, loss, drops, ε), and for each attack a start line, an
 * "iteration i/N, objective" line at most every `intervalMs` per attack, and a result line; the
 * "events" style keeps only the round and result lines.
 *
 * Usage: const detach = attachProgressPrinter(events);  …  detach();
 */
import type { RunEvents, RunEventMap } from './events';
import { attachProgressBars } from './progress-bars';
import { attackResultLine, jobKey, jobName, roundLine } from './progress-format';

/** auto: bars when stderr is a terminal and no `write` was given, else lines. */
export type ProgressStyle = 'auto' | 'bars' | 'lines' | 'events';

export interface ProgressOptions {
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  /** Minimum time between two iteration lines of the same attack. */
  intervalMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  style?: ProgressStyle;
}

/** Subscribes to the run's events; returns a function that unsubscribes. */
export function attachProgressPrinter(events: RunEvents, options: ProgressOptions = {}): () => void {
  const style = options.style ?? 'auto';
  if (style === 'bars' || (style === 'auto' && !options.write && process.stderr.isTTY)) return attachProgressBars(events);
  const eventsOnly = style === 'events';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const interval = options.intervalMs ?? 2000;
  const now = options.now ?? Date.now;
  const lastLine = new Map<string, number>();
  const planned = new Map<string, number>();

  const onRound = (...[r, total]: RunEventMap['round']) => write(roundLine(r, total));
  const onStart = (...[e]: RunEventMap['attack-start']) => {
    planned.set(jobKey(e), e.iterations);
    lastLine.set(jobKey(e), now());
    if (!eventsOnly) write(`${jobName(e)}: started`);
  };
  const onProgress = (...[e]: RunEventMap['attack-progress']) => {
    if (eventsOnly) return;
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
    write(attackResultLine(a));
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
