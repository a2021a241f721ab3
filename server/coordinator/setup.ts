/**
 * Everything the server side of a run needs before the first round: the public task (data shapes,
 * model, initial parameters, test set), the tokens, and a listening hub.
 */
import { SERVER_ONLY_FEDERATION_KEYS, type Scenario } from '../scenario/schema';
import { prepareFederatedData } from '../../shared/data';
import { NO_SERVER_DATA } from '../../shared/data/datasets/none';
import type { Dataset } from '../../shared/data/types';
import type { ImageShape } from '../../shared/models/types';
import { initialParamsFor, paramCount, type Model } from '../../shared/models';
import { definitionFor, modelFromDefinition, type ModelDefinition } from '../../shared/models/definition';
import { examplesPerRound } from '../../shared/training';
import { Rng } from '../../shared/random';
import { modelHash } from '../../shared/model-hash';
import { plantModel, type PlantedModel } from '../malicious/behaviour';
import { ClientHub } from './hub';
import { generateTokens, type ClientIdentity } from './tokens';

export interface Coordinator {
  hub: ClientHub;
  port: number;
  tokens: Map<string, ClientIdentity>;
  model: Model;
  /** The model as the server defines it (what each round's payload carries; a malicious server's planted one). */
  definition: ModelDefinition;
  /** What `server.behaviour` did to the model, and the secrets it keeps. */
  planted: PlantedModel;
  /** Hash of the honest definition: what a client pins (`fedleak client --model-hash`). */
  honestModelHash: string;
  paramCount: number;
  initialParams: Float32Array;
  /** The server's held-out examples; null when it holds no data (data.dataset "none"). */
  test: Dataset | null;
  maxFrameBytes: number;
  /** The most examples a client's update may claim: federation.maxExamplesPerUpdate, else the size of the shard it was assigned. */
  exampleCap: (clientId: string) => number;
}

/** The scenario as clients see it: no attack settings, no server-only federation fields (the aggregation rule, caps). */
export function publicScenario(s: Scenario): Record<string, unknown> {
  const federation: Record<string, unknown> = { ...s.federation };
  for (const key of SERVER_ONLY_FEDERATION_KEYS) delete federation[key];
  return JSON.parse(
    JSON.stringify({
      name: s.name,
      description: s.description,
      seed: s.seed,
      data: s.data,
      model: s.model,
      federation,
      defenses: s.defenses,
    }),
  ) as Record<string, unknown>;
}

function jsonObject(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/**
 * Largest frame a client may need: an update (4 bytes per parameter) or its ground-truth answer
 * (4 bytes per pixel of every example it used), plus 64 KiB for headers.
 */
export function maxFrameBytesFor(s: Scenario, params: number, pixels: number, largestShard: number): number {
  const used = examplesPerRound(s.federation, largestShard);
  return 4 * Math.max(params, Math.min(used, largestShard) * (pixels + 1)) + 65536;
}

/**
 * Client-held data with local epochs and no federation.maxExamplesPerUpdate: the server cannot know
 * how many examples a client holds, so a ground-truth answer (--share-truth) is framed for this many.
 */
export const CLIENT_HELD_TRUTH_EXAMPLES = 4096;

/** What the server knows of the data: the task, its held-out set, and each client's assigned shard size. */
export interface ServerData {
  shape: ImageShape;
  numClasses: number;
  /** null: the server holds no examples (data.dataset "none"). */
  test: Dataset | null;
  /** Examples client i was dealt; null with client-held data (data.location "clients"): only the clients know. */
  shardSizes: number[] | null;
}

export function serverData(s: Scenario): ServerData {
  const d = s.data;
  if (d.dataset === NO_SERVER_DATA) return { shape: [...d.shape], numClasses: d.classes, test: null, shardSizes: null };
  const data = prepareFederatedData(d, s.federation.clients, s.seed);
  const shardSizes = d.location === 'clients' ? null : data.shards.map((shard) => shard.length);
  return { shape: data.test.shape, numClasses: data.test.numClasses, test: data.test, shardSizes };
}

/** The most examples client i's update may claim: federation.maxExamplesPerUpdate, else its shard (client-held: what a round can use). */
function exampleCapOf(s: Scenario, data: ServerData): (clientIndex: number) => number {
  const f = s.federation;
  if (f.maxExamplesPerUpdate !== undefined) return () => f.maxExamplesPerUpdate as number;
  if (data.shardSizes) return (i) => data.shardSizes?.[i] ?? 0;
  const perRound = examplesPerRound(f, Infinity);
  return () => perRound;
}

export async function startCoordinator(
  scenario: Scenario,
  opts: { port: number; host: string; log: (line: string) => void },
): Promise<Coordinator> {
  const f = scenario.federation;
  const data = serverData(scenario);
  const honest = definitionFor(scenario.model, data.shape, data.numClasses, scenario.data.normalize);
  const honestModel = modelFromDefinition(honest);
  // An imported model starts from its file's weights; the built-ins draw theirs from the seed.
  const honestInitial = initialParamsFor(scenario.model) ?? honestModel.initParams(new Rng(scenario.seed).fork('model-init'));
  const planted = plantModel(scenario.server, honest, honestInitial, data.test, scenario.seed, f.batchSize);
  const { definition, initialParams } = planted;
  const model = planted.behaviour === 'honest' ? honestModel : modelFromDefinition(definition);
  const count = paramCount(model.specs);
  const tokens = generateTokens(f.clients);
  const largestShard = data.shardSizes ? Math.max(...data.shardSizes) : (f.maxExamplesPerUpdate ?? CLIENT_HELD_TRUTH_EXAMPLES);
  const maxFrameBytes = maxFrameBytesFor(scenario, count, data.shape[0] * data.shape[1] * data.shape[2], largestShard);
  const hub = new ClientHub({
    tokens,
    publicScenario: publicScenario(scenario),
    modelDefinition: jsonObject(model.definition),
    paramCount: count,
    maxFrameBytes,
    log: opts.log,
  });
  const port = await hub.listen(opts.port, opts.host);
  const capOf = exampleCapOf(scenario, data);
  const capByClient = new Map([...tokens.values()].map((id) => [id.clientId, capOf(id.clientIndex)]));
  const exampleCap = (clientId: string) => capByClient.get(clientId) ?? 0;
  return {
    hub,
    port,
    tokens,
    model,
    definition,
    planted,
    honestModelHash: modelHash(jsonObject(honest)),
    paramCount: count,
    initialParams,
    test: data.test,
    maxFrameBytes,
    exampleCap,
  };
}
