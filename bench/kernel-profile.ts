/**
 * Per-kernel time on the active backend: wraps every registered kernel of the backend with a
 * timer while `fn` runs, then restores the originals. Used by `fedleak bench --profile` to show
 * where a DLG evaluation spends its time. Time is this process's CPU time (user + system), which
 * other processes on a shared machine disturb far less than wall time.
 */
import { tf } from '../shared/tensor/tf';

export interface KernelTiming {
  kernel: string;
  calls: number;
  /** CPU ms per repeat. */
  totalMs: number;
}

/** CPU time of this process in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs `fn` `repeats` times with every kernel of the active backend timed. Per kernel: calls per
 * repeat and the median over repeats of its CPU ms (a GC pause or a preemption lands on whichever
 * kernel happens to run, so a mean would blame random small kernels).
 */
export function profileKernels(fn: () => void, repeats: number): KernelTiming[] {
  const backendName = tf.getBackend();
  const configs = tf.getKernelsForBackend(backendName);
  const calls = new Map<string, number>();
  const perRepeat = new Map<string, number[]>();
  let current = new Map<string, number>();
  const wrapped: tf.KernelConfig[] = [];
  for (const config of configs) {
    const name = config.kernelName;
    const inner = config.kernelFunc;
    const timed: tf.KernelConfig = {
      ...config,
      kernelFunc: (args) => {
        const t0 = cpuMs();
        const out = inner(args);
        current.set(name, (current.get(name) ?? 0) + cpuMs() - t0);
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return out;
      },
    };
    tf.unregisterKernel(name, backendName);
    tf.registerKernel(timed);
    wrapped.push(config);
  }
  try {
    for (let i = 0; i < repeats; i++) {
      current = new Map();
      fn();
      for (const [name, ms] of current) {
        const list = perRepeat.get(name) ?? [];
        list.push(ms);
        perRepeat.set(name, list);
      }
    }
  } finally {
    for (const config of wrapped) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  return [...perRepeat.entries()]
    .map(([kernel, list]) => {
      while (list.length < repeats) list.push(0);
      const sorted = [...list].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const med = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      return { kernel, calls: (calls.get(kernel) ?? 0) / repeats, totalMs: med };
    })
    .sort((a, b) => b.totalMs - a.totalMs);
}
