/** Multi-layer perceptron: flatten → [Dense(width) → activation]* → Dense(classes). All with bias. */
import type { InitScheme } from './init';
import { modelEntry } from './entry';
import { activationField, hiddenField, initField } from './fields';
import type { Activation, ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';

export interface MlpOptions {
  hidden: number[];
  activation: Activation;
  init?: InitScheme;
}

export function mlpDefinition(inputShape: ImageShape, numClasses: number, options: MlpOptions): ModelDefinition {
  const g = new GraphBuilder('mlp', inputShape, numClasses, options.init ?? { kind: 'fan-in' });
  g.flatten('flatten');
  denseHead(g, options.hidden, options.activation, numClasses);
  return g.build();
}

/** [Dense(width) → activation]* → Dense(classes), named dense1, dense2, …; shared with convnet. */
export function denseHead(g: GraphBuilder, hidden: readonly number[], activation: Activation, numClasses: number): void {
  hidden.forEach((units, i) => g.dense(`dense${i + 1}`, { units, activation }));
  g.dense(`dense${hidden.length + 1}`, { units: numClasses });
}

export const mlpModel = modelEntry(
  'mlp',
  'flatten → [Dense(w) → activation] per hidden width → Dense(classes), all with bias',
  { hidden: hiddenField, activation: activationField, init: initField },
  (c, shape, k) => mlpDefinition(shape, k, c),
);
