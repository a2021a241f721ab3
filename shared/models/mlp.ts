/** Multi-layer perceptron: flatten → [Dense(width) → activation (→ dropout)]* → Dense(classes). All with bias. */
import type { InitScheme } from './init';
import { modelEntry } from './entry';
import { activationField, dropoutField, hiddenField, initField } from './fields';
import type { Activation, ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';

export interface MlpOptions {
  hidden: number[];
  activation: Activation;
  init?: InitScheme;
  /** Dropout rate after each hidden layer (training only); none when absent or 0. */
  dropout?: number;
}

export function mlpDefinition(inputShape: ImageShape, numClasses: number, options: MlpOptions): ModelDefinition {
  const g = new GraphBuilder('mlp', inputShape, numClasses, options.init ?? { kind: 'fan-in' });
  g.flatten('flatten');
  denseHead(g, options.hidden, options.activation, numClasses, options.dropout);
  return g.build();
}

/** [Dense(width) → activation (→ dropout i)]* → Dense(classes), named dense1, dense2, …; shared with convnet. */
export function denseHead(g: GraphBuilder, hidden: readonly number[], activation: Activation, numClasses: number, dropout = 0): void {
  hidden.forEach((units, i) => {
    g.dense(`dense${i + 1}`, { units, activation });
    if (dropout > 0) g.add(`dropout${i + 1}`, 'dropout', { rate: dropout });
  });
  g.dense(`dense${hidden.length + 1}`, { units: numClasses });
}

export const mlpModel = modelEntry(
  'mlp',
  'flatten → [Dense(w) → activation (→ dropout)] per hidden width → Dense(classes), all with bias',
  { hidden: hiddenField, activation: activationField, dropout: dropoutField, init: initField },
  (c, shape, k) => mlpDefinition(shape, k, c),
);
