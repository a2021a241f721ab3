/**
 * ∇θ of a loss for a model whose parameters may include state (batch norm's moving statistics):
 * tf.grads refuses inputs the loss does not reach, and in training mode the statistics are not
 * reached, so only the trained parameters are differentiated and the state gets zeros.
 */
import { tf, type Tensor } from '../tensor/tf';
import type { Model } from './types';

export function parameterGrads(model: Model, loss: (params: Tensor[]) => Tensor, params: readonly Tensor[]): Tensor[] {
  if (model.stateParams.length === 0) return tf.grads((...ps: Tensor[]) => loss(ps))([...params]);
  const isState = new Set(model.stateParams);
  const trained = params.map((_p, i) => i).filter((i) => !isState.has(i));
  const grads = tf.grads((...ts: Tensor[]) => {
    const all = params.slice();
    trained.forEach((i, k) => (all[i] = ts[k]));
    return loss(all);
  })(trained.map((i) => params[i]));
  const out = params.map((p, i) => (isState.has(i) ? tf.zerosLike(p) : p));
  trained.forEach((i, k) => (out[i] = grads[k]));
  return out;
}
