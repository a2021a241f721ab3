/**
 * Models by scenario `model.name` (built-in networks and the tfjs import). Adding one: a file exporting its `modelEntry(name,
 * summary, fields, definition)` and one line here; the scenario's `model` schema is composed from
 * these entries (shared/models/schema.ts).
 */
import { convnetModel } from './convnet';
import { convnetIgModel } from './convnet-ig';
import { resnetModel } from './resnet';
import { lenetZhuModel } from './lenet-zhu';
import { mlpModel } from './mlp';
import { tfjsLayersModel } from './tfjs-layers';

export const MODEL_ENTRIES = [lenetZhuModel, mlpModel, convnetModel, resnetModel, convnetIgModel, tfjsLayersModel] as const;

export type BuiltinModelName = (typeof MODEL_ENTRIES)[number]['name'];
