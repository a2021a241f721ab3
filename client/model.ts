/**
 * The model a client trains, built from the definition the server sent in `welcome.model`, and
 * checked before the client says `ready`: a valid definition (shared/models), for the client's data
 * (input shape, class count), with the `paramCount` the server announced. Any fault is a
 * WireError 'bad-model' naming what does not fit; the client then refuses to train.
 */
import { WireError, type Welcome } from '../shared/wire';
import { definitionFor, modelFromDefinition, paramCount, parseModelDefinition, type Model, type ModelDefinition } from '../shared/models';
import type { Dataset } from '../shared/data/types';
import type { ModelConfig } from '../shared/models/schema';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** welcome.model when the server sent one; else (an older server) the built-in model `scenario.model` names. */
function definitionIn(w: Welcome, scenarioModel: ModelConfig, shard: Dataset): ModelDefinition {
  if (w.model === undefined) return definitionFor(scenarioModel, shard.shape, shard.numClasses);
  return parseModelDefinition(w.model, 'welcome.model');
}

export function modelFromWelcome(w: Welcome, scenarioModel: ModelConfig, shard: Dataset): Model {
  let model: Model;
  try {
    model = modelFromDefinition(definitionIn(w, scenarioModel, shard));
  } catch (err) {
    throw new WireError('bad-model', err instanceof Error ? err.message : String(err));
  }
  if (!sameShape(model.inputShape, shard.shape)) {
    throw new WireError('bad-model', `welcome.model.inputShape [${model.inputShape}] does not match this client's data [${shard.shape}]`);
  }
  if (model.numClasses !== shard.numClasses) {
    throw new WireError(
      'bad-model',
      `welcome.model.numClasses is ${model.numClasses} but this client's data has ${shard.numClasses} classes`,
    );
  }
  const count = paramCount(model.specs);
  if (count !== w.paramCount) {
    throw new WireError('bad-model', `welcome.paramCount is ${w.paramCount} but the model "${model.name}" has ${count} parameters`);
  }
  return model;
}
