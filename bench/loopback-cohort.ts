/**
 * A cohort of lightweight clients on loopback websockets, in this process: each authenticates with
 * the hub, answers `round.start` with a fixed vector (plain: an `update`; secure aggregation: the
 * client dispatcher's input) and speaks the secure-aggregation protocol. No model, no training — it
 * isolates the cost of the protocol and the transport (for `fedleak bench`).
 */
import WebSocket from 'ws';
import '../shared/wire/secagg';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';
import { Rng } from '../shared/random';
import type { SecureAggregationConfig } from '../server/scenario/schema';
import { ClientSecAgg } from '../client/secagg/session';
import { ClientHub } from '../server/coordinator/hub';
import { generateTokens, tokenList } from '../server/coordinator/tokens';
import { broadcastPlan, roundPayload, type RoundPlan } from '../server/strategy';
import { updateKindFor } from '../shared/training';
import { MODEL_DEFINITION_FORMAT, type ModelDefinition } from '../shared/models/definition';

export interface LoopbackCohort {
  hub: ClientHub;
  ids: string[];
  close(): Promise<void>;
}

export async function startLoopbackCohort(opts: {
  clients: number;
  paramCount: number;
  inputOf: (clientId: string) => Float32Array;
  /** Set: clients keep their vector for secure aggregation instead of sending it. */
  secureAggregation?: SecureAggregationConfig;
  log?: (line: string) => void;
}): Promise<LoopbackCohort> {
  const log = opts.log ?? (() => undefined);
  const tokens = generateTokens(opts.clients);
  const hub = new ClientHub({
    tokens,
    publicScenario: {},
    paramCount: opts.paramCount,
    maxFrameBytes: 8 * opts.paramCount + (1 << 20),
    log,
  });
  const port = await hub.listen(0);
  const sockets: WebSocket[] = [];
  const closed: Promise<void>[] = [];
  for (const token of tokenList(tokens)) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    sockets.push(ws);
    closed.push(new Promise((resolve) => ws.once('close', () => resolve())));
    const send = (m: WireMessage): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(m));
    };
    let id = '';
    let secagg: ClientSecAgg | null = null;
    ws.on('open', () => send({ type: 'hello', token, agent: 'fedleak-loopback' }));
    ws.on('message', (data: Buffer) => {
      const msg = decodeFrame(data, 'client');
      if (msg.type === 'welcome') {
        id = msg.clientId;
        if (opts.secureAggregation)
          secagg = new ClientSecAgg({ clientId: id, config: opts.secureAggregation, send, disconnect: () => ws.close(), log });
      } else if (msg.type === 'round.start') {
        const update = opts.inputOf(id);
        if (secagg) secagg.begin(msg.round, update, 1, new Rng(msg.round).fork(id));
        else send({ type: 'update', round: msg.round, kind: updateKindFor(msg.algorithm), numExamples: 1, update });
      } else if (msg.type === 'shutdown') {
        ws.close();
      } else if (msg.type !== 'update.accepted' && msg.type !== 'error') {
        secagg?.handle(msg);
      }
    });
  }
  await hub.waitForClients(opts.clients, 30000);
  return {
    hub,
    ids: hub.connected(),
    close: async () => {
      await hub.close('done', 2000);
      await Promise.all(closed);
    },
  };
}

/** A fedsgd round plan for a bare vector of `params.length` values (no model behind it). */
export function testPlan(round: number, selected: readonly string[], params: Float32Array): RoundPlan {
  const model: ModelDefinition = {
    format: MODEL_DEFINITION_FORMAT,
    name: 'bare-vector',
    inputShape: [1, 1, 1],
    numClasses: 1,
    layers: [],
    params: [{ name: 'vector', shape: [params.length] }],
  };
  const training = { algorithm: 'fedsgd', batchSize: 1, localSteps: 1, localEpochs: 0, learningRate: 0.1 } as const;
  return broadcastPlan(roundPayload(round, model, params, training), selected, 120000);
}
