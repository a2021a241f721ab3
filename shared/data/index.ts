/**
 * The data API. Everything is a pure function of the scenario's `data` section, the client count
 * and the seed, so a client process rebuilds exactly its own shard from the public scenario
 * (clientShard) and no training data ever travels over the wire. The server uses `test` for
 * evaluation.
 *
 * Paths in data.images, data.labels and data.files are resolved relative to the current working
 * directory of the process (not the scenario file).
 */
import { Rng } from '../random';
import { datasetEntryFor, type DataConfig } from './schema';
import { DataError } from './errors';
import { partition } from './partition';
import { splitIndices } from './split';
import { subset, type Dataset } from './types';

export { DataError } from './errors';
export { loadMnist } from './mnist';
export { makeSynthetic, type SyntheticOptions } from './synthetic';
export { loadIdx, encodeIdx } from './idx';
export { loadCifar10, encodeCifar10 } from './cifar10';
export { partition, partitionIid, partitionDirichlet, partitionByClass, type PartitionKind, type PartitionOptions } from './partition';
export { splitIndices, type SplitIndices } from './split';
export { subset, exampleSize, datasetSize, type Dataset } from './types';

export interface FederatedData {
  /** The training examples, in the split's shuffled order; shards index into it. */
  train: Dataset;
  /** The server's held-out evaluation examples. */
  test: Dataset;
  /** shards[c]: the indices into `train` of client c's examples (ascending, disjoint). */
  shards: number[][];
}

/**
 * The whole dataset named by the config, before splitting. mnist is cached per process and shared,
 * so treat the result as read-only. `seed` only matters for synthetic data.
 */
export function loadDataset(config: DataConfig, seed: number): Dataset {
  return datasetEntryFor(config).load(config, seed);
}

let memo: { key: string; value: FederatedData } | null = null;

/**
 * Loads, splits and partitions. The split and the partition use independent streams forked from
 * `seed`, so changing the partitioner does not change the test set. The last result is memoised
 * (a process running several clients calls this once per client).
 */
export function prepareFederatedData(config: DataConfig, clients: number, seed: number): FederatedData {
  const key = JSON.stringify([config, clients, seed]);
  if (memo && memo.key === key) return memo.value;
  const rng = new Rng(seed).fork('data');
  const data = loadDataset(config, seed);
  const { train: trainIdx, test: testIdx } = splitIndices(data.labels.length, config.testFraction, config.limit, rng.fork('split'));
  const train = subset(data, trainIdx, `${data.name}-train`);
  const test = subset(data, testIdx, `${data.name}-test`);
  const shards = partition(
    train.labels,
    { kind: config.partition, clients, numClasses: data.numClasses, alpha: config.alpha, classesPerClient: config.classesPerClient },
    rng.fork('partition'),
  );
  const value = { train, test, shards };
  memo = { key, value };
  return value;
}

/** Client `clientIndex`'s (0-based) training examples, exactly as prepareFederatedData assigns them. */
export function clientShard(config: DataConfig, clients: number, clientIndex: number, seed: number): Dataset {
  if (!Number.isInteger(clientIndex) || clientIndex < 0 || clientIndex >= clients) {
    throw new DataError(`client index ${clientIndex} is out of range 0–${clients - 1}`);
  }
  const { train, shards } = prepareFederatedData(config, clients, seed);
  return subset(train, shards[clientIndex], `${train.name}-client-${clientIndex}`);
}
