/**
 * The plain collect stage: send the round plan's `round.start`, accept one valid `update` per
 * selected client, until every selected client has answered or dropped (disconnected) or
 * `roundTimeoutMs` passes.
 */
import type { ErrorMessage, Update } from '../../shared/wire';
import { examplesPerRound, updateKindFor } from '../../shared/training';
import type { UpdateAdjustment } from '../strategy/aggregation/types';
import type { AcceptedUpdate, CollectResult, StageContext } from './stage';

/** Why `msg` from `clientId` cannot be accepted this round, or null when it can. */
function rejectionOf(
  ctx: StageContext,
  clientId: string,
  msg: Update,
  state: { pending: Set<string>; accepted: Map<string, AcceptedUpdate> },
): [code: string, why: string] | null {
  const { round } = ctx;
  const training = ctx.plan.payload.training;
  const kind = updateKindFor(training.algorithm);
  // A claim beyond the round's plan (fedsgd: one batch; localSteps × batch) is a protocol error;
  // with localEpochs the bound is the shard, which capExamples applies.
  const maxExamples = examplesPerRound(training, Number.MAX_SAFE_INTEGER);
  if (msg.round !== round) return ['wrong-round', `update for round ${msg.round}, but round ${round} is open`];
  if (state.accepted.has(clientId)) return ['duplicate', `a second update from ${clientId} in round ${round}`];
  if (!state.pending.has(clientId)) return ['wrong-round', `${clientId} is not selected in round ${round}`];
  if (msg.update.length !== ctx.paramCount)
    return ['wrong-length', `update.update: ${msg.update.length} values, the model has ${ctx.paramCount}`];
  if (msg.kind !== kind) return ['bad-message', `update.kind: "${msg.kind}", but ${training.algorithm} clients send "${kind}"`];
  if (msg.numExamples > maxExamples)
    return [
      'bad-message',
      `update.numExamples: ${msg.numExamples}, but a ${training.algorithm} round uses at most ${maxExamples} examples`,
    ];
  return null;
}

/**
 * The update with its declared example count (its weight in a mean) capped at what the server knows
 * the client can have used (its shard, or federation.maxExamplesPerUpdate); the cap is recorded.
 */
function capExamples(ctx: StageContext, accepted: AcceptedUpdate, adjustments: UpdateAdjustment[]): AcceptedUpdate {
  const cap = ctx.exampleCap?.(accepted.clientId);
  if (cap === undefined || accepted.numExamples <= cap) return accepted;
  adjustments.push({
    client: accepted.clientId,
    action: 'examples-capped',
    reason: `numExamples ${accepted.numExamples} > ${cap}, the most it can have used: weighted as ${cap}`,
  });
  ctx.log(`server: round ${ctx.round}: ${accepted.clientId} claimed ${accepted.numExamples} examples; capped at ${cap}`);
  return { ...accepted, numExamples: cap };
}

export function collectPlainUpdates(ctx: StageContext): Promise<CollectResult> {
  const { hub, round, selected, federation } = ctx;
  const state = { pending: new Set(selected), accepted: new Map<string, AcceptedUpdate>() };
  const { pending, accepted } = state;
  const dropped: string[] = [];
  const adjustments: UpdateAdjustment[] = [];

  return new Promise<CollectResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const drop = (clientId: string, why: string) => {
      if (!pending.delete(clientId)) return;
      dropped.push(clientId);
      ctx.log(`server: round ${round}: ${clientId} dropped (${why})`);
    };
    const finishIfDone = () => {
      if (pending.size === 0) finish();
    };
    const onDisconnect = (clientId: string) => {
      drop(clientId, 'disconnected');
      finishIfDone();
    };
    const unhandle = hub.handle('update', (clientId, msg, frameBytes) => {
      const rejection = rejectionOf(ctx, clientId, msg, state);
      if (rejection) return hub.reject(clientId, rejection[0], rejection[1], 'update');
      accepted.set(
        clientId,
        capExamples(ctx, { clientId, round, update: msg.update, numExamples: msg.numExamples, frameBytes }, adjustments),
      );
      pending.delete(clientId);
      hub.send(clientId, { type: 'update.accepted', round });
      finishIfDone();
    });
    // A client that could not act on this round's round.start will not send an update: drop it now.
    const onClientError = (clientId: string, err: ErrorMessage) => {
      if (err.ref !== 'round.start') return;
      drop(clientId, `it could not take part: ${err.code}: ${err.message}`);
      finishIfDone();
    };
    hub.on('disconnected', onDisconnect);
    hub.on('client-error', onClientError);
    const finish = () => {
      if (timer) clearTimeout(timer);
      unhandle();
      hub.off('disconnected', onDisconnect);
      hub.off('client-error', onClientError);
      // Selected order, so results do not depend on arrival order.
      resolve({ updates: selected.filter((id) => accepted.has(id)).map((id) => accepted.get(id) as AcceptedUpdate), dropped, adjustments });
    };

    for (const { clientId, message } of ctx.plan.instructions)
      if (hub.send(clientId, message) === 0) drop(clientId, 'not connected at round start');
    if (pending.size === 0) return finish();
    timer = setTimeout(() => {
      for (const id of [...pending]) drop(id, `no update within ${federation.roundTimeoutMs} ms`);
      finish();
    }, federation.roundTimeoutMs);
  });
}
