/**
 * Benign traffic for the query monitor's false-positive rate: real examples (the held-out split),
 * shuffled, in batches of 1–32, from one key of their own, through the real HTTP API.
 */
import type { Dataset } from '../../shared/data';
import { Rng } from '../../shared/random';
import { PredictClient } from './client';

export interface BenignTraffic {
  client: PredictClient;
  examples: Dataset;
  count: number;
  seed: number;
}

/** Sends `count` examples (cycling through them when count exceeds the set); returns how many were sent. */
export async function sendBenignTraffic(t: BenignTraffic): Promise<number> {
  const size = t.examples.shape[0] * t.examples.shape[1] * t.examples.shape[2];
  const rng = new Rng(t.seed).fork('benign');
  const order = rng.shuffle(Array.from({ length: t.examples.labels.length }, (_, i) => i));
  let sent = 0;
  while (sent < t.count) {
    const n = Math.min(t.count - sent, 1 + rng.int(32));
    const batch = new Float32Array(n * size);
    for (let j = 0; j < n; j++) {
      const i = order[(sent + j) % order.length];
      batch.set(t.examples.images.subarray(i * size, (i + 1) * size), j * size);
    }
    await t.client.predict(batch, n);
    sent += n;
  }
  return sent;
}
