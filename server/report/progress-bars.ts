/**
 * Progress bars on a terminal (cli-progress): one for the rounds, one per running attack
 * (iteration of its planned total, objective); finished rounds and attack results are printed
 * as lines above the bars, so the scrollback keeps the same record as the plain printer.
 *
 * Usage: const detach = attachProgressBars(events);  …  detach();
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RunEvents, RunEventMap } from './events';
import { attackResultLine, jobKey, jobName, roundLine } from './progress-format';

export function attachProgressBars(events: RunEvents, stream: NodeJS.WriteStream = process.stderr): () => void {
  const bars = new MultiBar(
    {
      stream,
      format: '{name} |{bar}| {value}/{total} {detail}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      fps: 5,
    },
    Presets.shades_classic,
  );
  let rounds: SingleBar | null = null;
  const attacks = new Map<string, SingleBar>();

  const onRound = (...[r, total]: RunEventMap['round']) => {
    bars.log(`${roundLine(r, total)}\n`);
    rounds ??= bars.create(total, 0, { name: 'rounds'.padEnd(28), detail: '' });
    rounds.update(r.round, {
      detail: Number.isFinite(r.testAccuracy) ? `test accuracy ${(100 * r.testAccuracy).toFixed(1)}%` : 'no test data',
    });
  };
  const onStart = (...[e]: RunEventMap['attack-start']) => {
    attacks.set(jobKey(e), bars.create(Math.max(1, e.iterations), 0, { name: jobName(e).slice(0, 28).padEnd(28), detail: '' }));
  };
  const onProgress = (...[e]: RunEventMap['attack-progress']) => {
    const bar = attacks.get(jobKey(e));
    if (!bar) return;
    // Restarts and screening runs may take the count past the planned iterations.
    const total = Math.max(e.total ?? bar.getTotal(), e.iteration);
    if (total !== bar.getTotal()) bar.setTotal(total);
    bar.update(e.iteration, { detail: `objective ${e.objective.toExponential(3)}` });
  };
  const onDone = (...[{ record }]: RunEventMap['attack-done']) => {
    const bar = attacks.get(jobKey(record));
    if (bar) bars.remove(bar);
    attacks.delete(jobKey(record));
    bars.log(`${attackResultLine(record)}\n`);
  };
  let stopped = false;
  // Called by the run's 'end' event and by the caller's own detach: stop the bars once.
  const detach = () => {
    if (stopped) return;
    stopped = true;
    events.off('round', onRound);
    events.off('attack-start', onStart);
    events.off('attack-progress', onProgress);
    events.off('attack-done', onDone);
    events.off('end', detach);
    bars.stop();
  };
  events.on('round', onRound);
  events.on('attack-start', onStart);
  events.on('attack-progress', onProgress);
  events.on('attack-done', onDone);
  events.on('end', detach);
  return detach;
}
