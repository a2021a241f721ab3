/**
 * The plain collect stage: broadcast `round.start`, accept one valid `update` per selected client,
 * until every selected client has answered or dropped (disconnected) or `roundTimeoutMs` passes.
 */
import type { ErrorMessage } from '../../shared/wire';
import type { AcceptedUpdate, CollectResult, StageContext } from './stage';

/** The observer (and capture writer) must not break the round: a failure there is logged. */
function observeSafely(ctx: StageContext, u: Parameters<StageContext['observe']>[0]): void {
  try {
    ctx.observe(u);
  } catch (err) {
    ctx.log(`server: round ${u.round}: observing ${u.clientId}'s update failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function collectPlainUpdates(ctx: StageContext): Promise<CollectResult> {
  const { hub, round, selected, federation } = ctx;
  const kind = federation.algorithm === 'fedsgd' ? 'gradient' : 'weight-delta';
  const maxExamples =
    federation.algorithm === 'fedsgd' ? federation.batchSize : federation.localEpochs > 0 ? Number.MAX_SAFE_INTEGER : federation.localSteps * federation.batchSize;
  const pending = new Set(selected);
  const accepted = new Map<string, AcceptedUpdate>();
  const dropped: string[] = [];

  return new Promise<CollectResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finishIfDone = () => {
      if (pending.size > 0) return;
      finish();
    };
    const drop = (clientId: string, why: string) => {
      if (!pending.delete(clientId)) return;
      dropped.push(clientId);
      ctx.log(`server: round ${round}: ${clientId} dropped (${why})`);
    };
    const onDisconnect = (clientId: string) => {
      drop(clientId, 'disconnected');
      finishIfDone();
    };
    const unhandle = hub.handle('update', (clientId, msg, frameBytes) => {
      if (msg.round !== round) return hub.reject(clientId, 'wrong-round', `update for round ${msg.round}, but round ${round} is open`, 'update');
      if (accepted.has(clientId)) return hub.reject(clientId, 'duplicate', `a second update from ${clientId} in round ${round}`, 'update');
      if (!pending.has(clientId)) return hub.reject(clientId, 'wrong-round', `${clientId} is not selected in round ${round}`, 'update');
      if (msg.update.length !== ctx.paramCount) {
        return hub.reject(clientId, 'wrong-length', `update.update: ${msg.update.length} values, the model has ${ctx.paramCount}`, 'update');
      }
      if (msg.kind !== kind) return hub.reject(clientId, 'bad-message', `update.kind: "${msg.kind}", but ${federation.algorithm} clients send "${kind}"`, 'update');
      // A client cannot have used more examples than the round's plan allows (its weight in the mean).
      if (msg.numExamples > maxExamples) {
        return hub.reject(clientId, 'bad-message', `update.numExamples: ${msg.numExamples}, but a ${federation.algorithm} round uses at most ${maxExamples} examples`, 'update');
      }
      const u: AcceptedUpdate = { clientId, round, update: msg.update, numExamples: msg.numExamples, frameBytes };
      accepted.set(clientId, u);
      pending.delete(clientId);
      hub.send(clientId, { type: 'update.accepted', round });
      observeSafely(ctx, {
        round,
        clientId,
        update: msg.update,
        updateKind: kind,
        numExamples: msg.numExamples,
        globalParams: ctx.globalParams,
        view: 'plain',
        frameBytes,
      });
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
      resolve({ updates: selected.filter((id) => accepted.has(id)).map((id) => accepted.get(id) as AcceptedUpdate), dropped });
    };

    const message = {
      type: 'round.start' as const,
      round,
      algorithm: federation.algorithm,
      learningRate: federation.learningRate,
      batchSize: federation.batchSize,
      localSteps: federation.localSteps,
      localEpochs: federation.localEpochs,
      timeoutMs: federation.roundTimeoutMs,
      params: ctx.globalParams,
    };
    for (const id of selected) if (hub.send(id, message) === 0) drop(id, 'not connected at round start');
    if (pending.size === 0) return finish();
    timer = setTimeout(() => {
      for (const id of [...pending]) drop(id, `no update within ${federation.roundTimeoutMs} ms`);
      finish();
    }, federation.roundTimeoutMs);
  });
}
