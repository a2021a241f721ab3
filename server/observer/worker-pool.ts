/**
 * A pool of worker threads that run attacks, so the coordinator's event loop never blocks on one.
 *
 * Usage:
 *   const pool = new AttackWorkerPool({ size: 2 });
 *   const output = await pool.run('dlg', input, (p) => console.log(p.iteration, p.objective));
 *   await pool.close();
 *
 * Jobs queue FIFO; each worker runs one attack at a time. Workers start lazily on the first job and
 * are unref'd while idle, so a forgotten close() never keeps the process alive. A job whose attack
 * throws (or whose worker dies) rejects with an AttackJobError; the pool replaces a dead worker and
 * keeps serving the queue.
 *
 * Plug-in attacks: `plugins` lists module paths (absolute, or resolvable from this file) that each
 * worker loads once after start-up (attacks/plugins.ts: `attack` or `attacks` exports); their
 * attacks join the worker's registry (replacing a built-in of the same name). This is how users run
 * their own attacks in the pool, and how the tests inject test-only attacks. Settings arrive already
 * validated (the scenario loader checks them with the plug-in's schema).
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { AttackInput, AttackOutput, AttackProgress } from './attacks/types';

export interface WorkerPoolOptions {
  /** Worker threads (≥ 1). */
  size: number;
  /** Plug-in attack modules each worker loads (see the file comment). */
  plugins?: readonly string[];
  /** Worker entry script; default the compiled attack-worker.js beside this file. */
  entry?: string;
}

/** Data the pool hands to each worker at start-up. */
export interface AttackWorkerData {
  plugins: string[];
}

/** Messages main → worker. */
export interface RunJobMessage {
  type: 'run';
  jobId: number;
  attack: string;
  input: AttackInput<unknown>;
}

/** Messages worker → main. */
export type WorkerMessage =
  | { type: 'progress'; jobId: number; progress: AttackProgress }
  | { type: 'done'; jobId: number; output: AttackOutput }
  | { type: 'error'; jobId: number; message: string; stack?: string }
  | { type: 'fatal'; message: string; stack?: string };

/** An attack that failed: thrown inside the worker, or the worker died under it. */
export class AttackJobError extends Error {
  constructor(
    message: string,
    readonly attack: string,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'AttackJobError';
  }
}

interface Job {
  id: number;
  attack: string;
  input: AttackInput<unknown>;
  onProgress?: (p: AttackProgress) => void;
  resolve: (out: AttackOutput) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** Set when the worker reported a start-up failure (e.g. a plug-in that does not load). */
  fatal: string | null;
}

/**
 * Copies of the two big arrays in fresh buffers we can transfer (zero-copy to the worker) without
 * detaching anything the caller still holds.
 */
function transferableCopy(input: AttackInput<unknown>): { input: AttackInput<unknown>; transfer: ArrayBuffer[] } {
  const params = new Float32Array(input.payload.params);
  const update = new Float32Array(input.observed.update);
  return {
    input: { ...input, payload: { ...input.payload, params }, observed: { ...input.observed, update } },
    transfer: [params.buffer, update.buffer],
  };
}

export class AttackWorkerPool {
  readonly size: number;
  private readonly plugins: string[];
  private readonly entry: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 1;
  private closed = false;
  /** Set when workers cannot start (a plug-in that does not load); every job fails with it. */
  private fatal: AttackJobError | null = null;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new Error(`attack.workers: expected a positive integer, got ${String(options.size)}`);
    }
    this.size = options.size;
    this.plugins = (options.plugins ?? []).map((p) => path.resolve(p));
    this.entry = options.entry ?? path.join(__dirname, 'attack-worker.js');
  }

  /** Runs `attack` on `input` in a worker. The caller's arrays are copied, never detached. */
  run(attack: string, input: AttackInput<unknown>, onProgress?: (p: AttackProgress) => void): Promise<AttackOutput> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.closed) return Promise.reject(new Error('attack worker pool is closed'));
    return new Promise<AttackOutput>((resolve, reject) => {
      this.queue.push({ id: this.nextJobId++, attack, input, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.job !== null).length;
  }

  /** Terminates every worker; queued and running jobs reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('attack worker pool closed before the job ran'));
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      if (slot.job) slot.job.reject(new AttackJobError('attack worker pool closed while the attack ran', slot.job.attack));
      slot.job = null;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null && s.fatal === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift() as Job;
      try {
        const { input, transfer } = transferableCopy(job.input);
        const message: RunJobMessage = { type: 'run', jobId: job.id, attack: job.attack, input };
        slot.worker.postMessage(message, transfer);
      } catch (err) {
        // E.g. an input field that cannot be cloned: this job fails, the worker stays free.
        job.reject(
          new AttackJobError(`attack input cannot be sent to a worker: ${err instanceof Error ? err.message : String(err)}`, job.attack),
        );
        continue;
      }
      slot.job = job;
      slot.worker.ref();
    }
  }

  private spawn(): Slot {
    const workerData: AttackWorkerData = { plugins: this.plugins };
    const worker = new Worker(this.entry, { workerData });
    const slot: Slot = { worker, job: null, fatal: null };
    worker.unref();
    worker.on('message', (msg: WorkerMessage) => this.onMessage(slot, msg));
    worker.on('error', (err: Error) => this.onWorkerGone(slot, `attack worker crashed: ${err.message}`, err.stack));
    worker.on('exit', (code) => this.onWorkerGone(slot, `attack worker exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    if (msg.type === 'fatal') {
      // Start-up failed (a plug-in did not load): every job would fail the same way.
      slot.fatal = msg.message;
      const err = new AttackJobError(msg.message, slot.job?.attack ?? '(start-up)', msg.stack);
      this.failAll(err);
      return;
    }
    const job = slot.job;
    if (!job || job.id !== msg.jobId) return;
    if (msg.type === 'progress') {
      job.onProgress?.(msg.progress);
      return;
    }
    slot.job = null;
    slot.worker.unref();
    if (msg.type === 'done') job.resolve(msg.output);
    else job.reject(new AttackJobError(msg.message, job.attack, msg.stack));
    this.dispatch();
  }

  private onWorkerGone(slot: Slot, message: string, stack?: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already handled (error is followed by exit), or closed
    this.slots.splice(index, 1);
    if (slot.job) slot.job.reject(new AttackJobError(message, slot.job.attack, stack));
    slot.job = null;
    if (!this.closed && !this.fatal) this.dispatch();
  }

  /** A start-up failure: reject everything rather than respawning workers that fail the same way. */
  private failAll(err: AttackJobError): void {
    for (const job of this.queue.splice(0)) job.reject(err);
    for (const slot of this.slots) {
      if (slot.job) slot.job.reject(err);
      slot.job = null;
    }
    const slots = this.slots.splice(0);
    this.fatal = err;
    void Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
