/**
 * Worker-thread entry of the attack pool (worker-pool.ts); not imported by anything else.
 *
 * Loads the plug-in attack modules named in workerData, sets up the tensor backend once, then runs
 * one attack per 'run' message from the registry of this thread's own module instance. Progress,
 * the result and thrown errors go back as messages; the result's image buffer is transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../shared/tensor/backend';
import { getAttack, registerAttackPlugin } from './attacks';
import type { AttackWorkerData, RunJobMessage, WorkerMessage } from './worker-pool';

function describe(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: String(err) };
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('attack-worker.ts runs only as a worker thread (see worker-pool.ts)');
  const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  const data = workerData as AttackWorkerData;
  try {
    for (const file of data.plugins ?? []) registerAttackPlugin(file);
  } catch (err) {
    post({ type: 'fatal', ...describe(err) });
    return;
  }
  const ready = initBackend({ quiet: true });

  // Jobs arrive one at a time (the pool waits for each result), so no queue is needed here.
  port.on('message', (msg: RunJobMessage) => {
    if (msg.type !== 'run') return;
    const { jobId } = msg;
    const run = async () => {
      await ready;
      const attack = getAttack(msg.attack);
      return attack(msg.input, (progress) =>
        post({
          type: 'progress',
          jobId,
          progress: {
            iteration: progress.iteration,
            objective: progress.objective,
            total: progress.total,
            restart: progress.restart,
            restarts: progress.restarts,
            preview: progress.preview,
          },
        }),
      );
    };
    run().then(
      (output) => {
        // Copy the images into a buffer of their own (it may be a view into a larger one) and move it.
        const images = new Float32Array(output.images);
        post({ type: 'done', jobId, output: { ...output, images } }, [images.buffer]);
      },
      (err: unknown) => post({ type: 'error', jobId, ...describe(err) }),
    );
  });
}

main();
