/**
 * Tensor backend set-up. Preference: FEDLEAK_BACKEND if set (cpu | tensorflow | wasm), else
 * @tensorflow/tfjs-node ("tensorflow") when it is installed and loads, else tfjs's pure-JS "cpu"
 * backend with fedleak's fast kernels. Prints the backend once per process (stderr).
 */
import { tf } from './tf';
import { registerSecondOrderGradients } from './second-order-grads';
import { registerFastCpuKernels } from './fast-kernels';

export type BackendName = 'cpu' | 'tensorflow' | 'wasm';
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'tensorflow', 'wasm'];

export interface BackendInfo {
  /** Backend in use, as tfjs names it. */
  name: BackendName;
  /** Why this backend: 'FEDLEAK_BACKEND', 'tfjs-node installed', or 'tfjs-node not available'. */
  reason: string;
  /** True when fedleak's own CPU kernels replace the stock ones. */
  fastKernels: boolean;
  tfjsVersion: string;
}

/** A backend that was asked for and cannot be had: the person at the terminal can fix it. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

function tryRequire(moduleName: string): { ok: true } | { ok: false; error: string } {
  try {
    // Optional backends load lazily by name; a static import would make them mandatory.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(moduleName);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

function requestedBackend(): BackendName | null {
  const raw = process.env.FEDLEAK_BACKEND;
  if (raw === undefined || raw === '') return null;
  if ((BACKEND_NAMES as readonly string[]).includes(raw)) return raw as BackendName;
  throw new BackendError(`FEDLEAK_BACKEND=${raw} is not a backend fedleak knows; use one of ${BACKEND_NAMES.join(', ')}.`);
}

async function select(quiet: boolean): Promise<BackendInfo> {
  // tfjs warns on first CPU use that tfjs-node would be faster; we print our own line instead.
  tf.env().set('PROD', true);
  registerSecondOrderGradients();
  const wanted = requestedBackend();
  let name: BackendName = 'cpu';
  let reason = 'tfjs-node not available';
  if (wanted === 'tensorflow' || wanted === null) {
    const loaded = tryRequire('@tensorflow/tfjs-node');
    if (loaded.ok) {
      name = 'tensorflow';
      reason = wanted ? 'FEDLEAK_BACKEND' : 'tfjs-node installed';
    } else if (wanted === 'tensorflow') {
      throw new BackendError(
        `FEDLEAK_BACKEND=tensorflow but @tensorflow/tfjs-node does not load (${loaded.error}). ` +
          'Its install step downloads libtensorflow; unset FEDLEAK_BACKEND to use the cpu backend.',
      );
    }
  } else if (wanted === 'wasm') {
    const loaded = tryRequire('@tensorflow/tfjs-backend-wasm');
    if (!loaded.ok) {
      throw new BackendError(
        `FEDLEAK_BACKEND=wasm but @tensorflow/tfjs-backend-wasm does not load (${loaded.error}). ` +
          'Install it with `npm install @tensorflow/tfjs-backend-wasm`, or unset FEDLEAK_BACKEND.',
      );
    }
    name = 'wasm';
    reason = 'FEDLEAK_BACKEND';
  } else {
    reason = 'FEDLEAK_BACKEND';
  }
  const fastKernels = name === 'cpu' && process.env.FEDLEAK_STOCK_KERNELS !== '1';
  if (fastKernels) registerFastCpuKernels();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  const info: BackendInfo = { name, reason, fastKernels, tfjsVersion: tf.version.tfjs };
  if (!quiet) {
    process.stderr.write(
      `fedleak: tensor backend ${name} (${reason}${fastKernels ? ', fedleak fast CPU kernels' : ''}), tfjs ${info.tfjsVersion}\n`,
    );
  }
  return info;
}

/** Sets up the backend once per process (later calls return the same info). */
export function initBackend(options: { quiet?: boolean } = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  if (!pending) {
    const quiet = options.quiet ?? process.env.FEDLEAK_QUIET_BACKEND === '1';
    pending = select(quiet).then((info) => {
      current = info;
      return info;
    });
  }
  return pending;
}

export function backendInfo(): BackendInfo {
  if (!current) throw new Error('initBackend() has not run yet');
  return current;
}
