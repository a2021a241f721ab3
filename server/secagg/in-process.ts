/**
 * Runs a whole secure-aggregation round in one process, server and clients as plain objects, with
 * simulated drop-outs: a client listed in `dropAt` stops answering from that stage on. Used by the
 * property tests and as the reference the websocket runtime must agree with.
 */
import { Rng } from '../../shared/random';
import { SecAggClient } from '../../shared/secagg/client';
import type { SecAggClientMessage, SecAggServerMessage } from '../../shared/secagg/messages';
import { SecAggServer, type SecAggRoundResult, type SecAggServerParams } from './server';

export type DropStage = 'advertise' | 'share-keys' | 'masked-input' | 'unmask';
export const DROP_STAGES: readonly DropStage[] = ['advertise', 'share-keys', 'masked-input', 'unmask'];

const REQUEST_STAGE: Record<SecAggServerMessage['type'], DropStage | null> = {
  'secagg.advertise-request': 'advertise',
  'secagg.share-keys-request': 'share-keys',
  'secagg.masked-input-request': 'masked-input',
  'secagg.unmask-request': 'unmask',
  'secagg.abort': null,
};

export interface InProcessOptions {
  params: SecAggServerParams;
  inputs: Map<string, Float32Array>;
  dropAt?: Map<string, DropStage>;
  /** Seed of the clients' stochastic rounding. */
  seed: number;
  /** Lets a test corrupt a client's reply before the server sees it. */
  tamper?: (from: string, reply: SecAggClientMessage) => unknown;
}

export async function runInProcess(options: InProcessOptions): Promise<{ result: SecAggRoundResult; clients: Map<string, SecAggClient> }> {
  const server = new SecAggServer(options.params);
  const rng = new Rng(options.seed);
  const clients = new Map<string, SecAggClient>();
  for (const id of options.params.participants) {
    const input = options.inputs.get(id);
    clients.set(id, new SecAggClient({ clientId: id, rng: rng.fork(id), ...(input ? { input } : {}) }));
  }
  let outgoing = server.start();
  for (;;) {
    for (const o of outgoing) {
      const stage = REQUEST_STAGE[o.message.type];
      const drop = options.dropAt?.get(o.to);
      if (stage && drop && DROP_STAGES.indexOf(stage) >= DROP_STAGES.indexOf(drop)) continue;
      const reply = await clients.get(o.to)!.respond(o.message);
      if (reply) server.receive(o.to, options.tamper ? options.tamper(o.to, reply) : reply);
    }
    const closed = await server.closeStage();
    outgoing = closed.outgoing;
    if (closed.result) {
      for (const o of outgoing) await clients.get(o.to)!.respond(o.message);
      return { result: closed.result, clients };
    }
  }
}
