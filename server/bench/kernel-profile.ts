/**
 * Per-kernel time on the active backend: wraps every registered kernel of the backend with a
 * timer while `fn` runs, then restores the originals. Used by `fedleak bench --profile` to show
 * where a DLG evaluation spends its time. Time is this process's CPU time (user + system), which
 * other processes on a shared machine disturb far less than wall time.
 */
import { tf } from '../../shared/tensor/tf';

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

export function profileKernels(fn: () => void, repeats: number): KernelTiming[] {
  const backendName = tf.getBackend();
  const configs = tf.getKernelsForBackend(backendName);
  const stats = new Map<string, KernelTiming>();
  const wrapped: tf.KernelConfig[] = [];
  for (const config of configs) {
    const entry: KernelTiming = { kernel: config.kernelName, calls: 0, totalMs: 0 };
    stats.set(config.kernelName, entry);
    const inner = config.kernelFunc;
    const timed: tf.KernelConfig = {
      ...config,
      kernelFunc: (args) => {
        const t0 = cpuMs();
        const out = inner(args);
        entry.totalMs += cpuMs() - t0;
        entry.calls++;
        return out;
      },
    };
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(timed);
    wrapped.push(config);
  }
  try {
    for (let i = 0; i < repeats; i++) fn();
  } finally {
    for (const config of wrapped) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  return [...stats.values()]
    .filter((s) => s.calls > 0)
    .map((s) => ({ kernel: s.kernel, calls: s.calls / repeats, totalMs: s.totalMs / repeats }))
    .sort((a, b) => b.totalMs - a.totalMs);
}
