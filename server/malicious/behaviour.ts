/**
 * What a malicious server does to the model before the first round (scenario `server.behaviour`):
 * `imprint` puts Robbing the Fed's imprint block in front of the honest definition; `trap-weights`
 * keeps the architecture and crafts the first dense layer (Curious Abandon Honesty). The result is
 * what travels in `welcome` (the definition) and in every `round.start` (`plant` re-crafts the
 * planted parameters each round, as the training step moves them), and the `secrets` the attack gets.
 * Public data: the server's own test split (the reference fits bins on public data too).
 */
import type { AttackSecrets } from '../../shared/contract';
import type { Dataset } from '../../shared/data/types';
import { exampleSize } from '../../shared/data/types';
import { modelFromDefinition, type ModelDefinition } from '../../shared/models/definition';
import { splitFlat } from '../../shared/models/params';
import { Rng } from '../../shared/random';
import type { ImprintBehaviour, ServerConfig, TrapBehaviour } from '../scenario/malicious-schema';
import { buildImprintBlock, imprintBlockParams, measurePublicStatistic, type ImprintQuery } from './imprint';
import { withImprintDefinition } from './imprint-model';
import { calibrateTrapFactor, trapWeights } from './trap-weights';

export interface PlantedModel {
  behaviour: ServerConfig['behaviour'];
  definition: ModelDefinition;
  initialParams: Float32Array;
  /** What the server keeps to itself and hands the attack (null for an honest server). */
  secrets: AttackSecrets | null;
  /** The round's parameters with the planted ones re-crafted. */
  plant(params: Float32Array): Float32Array;
}

function publicImages(data: Dataset, count: number): { images: Float32Array; count: number } {
  const n = Math.min(count, data.labels.length);
  return { images: data.images.subarray(0, n * exampleSize(data)), count: n };
}

function plantImprint(config: ImprintBehaviour, honest: ModelDefinition, initial: Float32Array, data: Dataset): PlantedModel {
  const size = exampleSize(data);
  const query: ImprintQuery = config.query === 'avg' ? { kind: 'avg' } : { kind: 'fourier', mode: 0 };
  const pub = publicImages(data, config.publicExamples);
  const block = buildImprintBlock({
    inputSize: size,
    bins: config.bins,
    statistic: measurePublicStatistic(query, pub.images, pub.count, size),
    query,
  });
  const blockParams = imprintBlockParams(block);
  const plant = (params: Float32Array) => {
    const out = Float32Array.from(params);
    out.set(blockParams);
    return out;
  };
  const start = new Float32Array(blockParams.length + initial.length);
  start.set(initial, blockParams.length);
  return {
    behaviour: 'imprint',
    definition: withImprintDefinition(honest, block),
    initialParams: plant(start),
    secrets: { ...block.secrets },
    plant,
  };
}

function plantTraps(
  config: TrapBehaviour,
  honest: ModelDefinition,
  initial: Float32Array,
  data: Dataset,
  seed: number,
  batchSize: number,
): PlantedModel {
  const model = modelFromDefinition(honest);
  const first = model.firstDenseLayer;
  if (!first) throw new Error(`server.behaviour "trap-weights": model "${honest.name}" has no dense first layer with a bias to craft`);
  const [inputs, units] = model.specs[first.kernel].shape;
  const trapSeed = new Rng(seed).fork('malicious/trap-weights').nextUint32();
  const pub = publicImages(data, config.publicExamples);
  const positiveFactor = config.calibrate
    ? calibrateTrapFactor({ inputs, units }, trapSeed, pub.images, pub.count, 1 / Math.max(2, batchSize))
    : 0.95;
  const layer = trapWeights({ inputs, units, positiveFactor }, new Rng(trapSeed));
  const plant = (params: Float32Array) => {
    const out = Float32Array.from(params);
    const parts = splitFlat(out, model.specs);
    parts[first.kernel].set(layer.kernel);
    parts[first.bias].set(layer.bias);
    return out;
  };
  const secrets = { ...layer.secrets, kernelIndex: first.kernel, biasIndex: first.bias };
  return { behaviour: 'trap-weights', definition: honest, initialParams: plant(initial), secrets, plant };
}

export function plantModel(
  config: ServerConfig,
  honest: ModelDefinition,
  initial: Float32Array,
  publicData: Dataset | null,
  seed: number,
  batchSize: number,
): PlantedModel {
  if (config.behaviour === 'honest')
    return { behaviour: 'honest', definition: honest, initialParams: initial, secrets: null, plant: (p) => p };
  if (!publicData)
    throw new Error(
      `server.behaviour "${config.behaviour}" fits its planted layer on public data, and the server holds none (data.dataset "none")`,
    );
  switch (config.behaviour) {
    case 'imprint':
      return plantImprint(config, honest, initial, publicData);
    case 'trap-weights':
      return plantTraps(config, honest, initial, publicData, seed, batchSize);
  }
}
