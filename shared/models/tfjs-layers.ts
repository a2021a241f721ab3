/**
 * `"model": {"name": "tfjs-layers", "path": "model.json"}`: a user's tfjs LayersModel, imported
 * (shared/models/import/tfjs-layers.ts) on the server; its weights are the initial global model.
 * Clients never read the file: they build the model from `welcome.model`. `path` is relative to the
 * working directory, like the data paths.
 */
import { z } from 'zod';
import { modelEntry } from './entry';
import { importTfjsLayersModel } from './import/tfjs-layers';
import { ModelDefinitionError } from './graph/validate';
import type { ImageShape } from './types';

const PATH_MISSING = 'model.path: the path of a tfjs model.json is required when model.name is "tfjs-layers"';

function imported(path: string | undefined) {
  if (!path) throw new ModelDefinitionError(PATH_MISSING);
  return importTfjsLayersModel(path);
}

function checkTask(path: string, got: { inputShape: number[]; numClasses: number }, inputShape: ImageShape, numClasses: number): void {
  if (got.inputShape.join(',') !== inputShape.join(',')) {
    throw new ModelDefinitionError(`model.path ${path}: the model takes [${got.inputShape}] images, the data has [${inputShape}]`);
  }
  if (got.numClasses !== numClasses)
    throw new ModelDefinitionError(`model.path ${path}: the model outputs ${got.numClasses} classes, the data has ${numClasses}`);
}

export const tfjsLayersModel = modelEntry(
  'tfjs-layers',
  "a user's tfjs LayersModel (model.json + weight shards); its weights start the federation",
  { path: z.string().min(1).optional() },
  (c, inputShape, numClasses) => {
    const { definition } = imported(c.path);
    checkTask(c.path ?? '', definition, inputShape, numClasses);
    return definition;
  },
  {
    initialParams: (c) => imported(c.path).params,
    problems: (c) => (c.path ? [] : [PATH_MISSING]),
  },
);
