/**
 * Test accuracy and mean softCrossEntropy of the global model on the server's held-out examples;
 * NaN for both when the server holds none (data.dataset "none"): not measured, rather than 0.
 */
import { tf, type Tensor4D } from '../../shared/tensor/tf';
import { INFERENCE_FORWARD, oneHot, softCrossEntropy, unflattenParams, type Model } from '../../shared/models';
import type { Dataset } from '../../shared/data/types';
import { exampleSize } from '../../shared/data/types';

const CHUNK = 500;

export function evaluate(model: Model, params: Float32Array, test: Dataset | null, limit = 0): { testAccuracy: number; testLoss: number } {
  if (test === null) return { testAccuracy: NaN, testLoss: NaN };
  const n = limit > 0 ? Math.min(limit, test.labels.length) : test.labels.length;
  if (n === 0) return { testAccuracy: 0, testLoss: 0 };
  const size = exampleSize(test);
  const [h, w, c] = test.shape;
  const ps = unflattenParams(params, model.specs);
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      const labels = test.labels.subarray(start, start + m);
      const [lossT, predT] = tf.tidy(() => {
        const x = tf.tensor4d(test.images.subarray(start * size, (start + m) * size), [m, h, w, c]) as Tensor4D;
        const logits = model.apply(ps, x, INFERENCE_FORWARD);
        return [softCrossEntropy(logits, oneHot(labels, test.numClasses)), tf.argMax(logits, 1)];
      });
      const loss = lossT.dataSync()[0];
      const pred = predT.dataSync();
      tf.dispose([lossT, predT]);
      lossSum += loss * m;
      for (let i = 0; i < m; i++) if (pred[i] === test.labels[start + i]) correct++;
    }
  } finally {
    tf.dispose(ps);
  }
  return { testAccuracy: correct / n, testLoss: lossSum / n };
}
