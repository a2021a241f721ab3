/**
 * `data.normalize` as the model's first layer: a parameter-free `normalize` op fed by the input, so
 * clients, attacks and metrics keep working on pixels in [0, 1] while the network sees
 * (x − mean[c]) / std[c]. Works on any definition (built-in or imported): every layer that read
 * the input reads the normalised input instead. Parameters and their order do not change.
 */
import { channelStats, type Normalization } from '../data/normalize';
import { INPUT, type LayerNode, type ModelDefinition } from './graph/validate';

/** The inserted layer's name (a suffix is added if the model already uses it). */
export const NORMALIZE_LAYER = 'input_normalize';

function freeName(layers: readonly LayerNode[]): string {
  const taken = new Set(layers.map((l) => l.name));
  let name = NORMALIZE_LAYER;
  for (let k = 2; taken.has(name); k++) name = `${NORMALIZE_LAYER}_${k}`;
  return name;
}

/**
 * The definition with a leading normalize layer, or `def` itself when `normalize` is absent. Throws
 * a DataError naming data.normalize.mean / .std when their lengths do not fit the input's channels.
 */
export function withInputNormalization(def: ModelDefinition, normalize: Normalization | undefined): ModelDefinition {
  if (!normalize) return def;
  channelStats(normalize, def.inputShape[2]);
  const name = freeName(def.layers);
  const first: LayerNode = {
    name,
    op: 'normalize',
    inputs: [INPUT],
    config: { mean: [...normalize.mean], std: [...normalize.std] },
    params: [],
  };
  const rewired = def.layers.map((l) => ({ ...l, inputs: l.inputs.map((i) => (i === INPUT ? name : i)) }));
  return { ...def, layers: [first, ...rewired] };
}
