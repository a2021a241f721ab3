/**
 * SIMULATOR ONLY: fetches the clients' plain inputs to secure aggregation over the evaluation channel
 * (`eval.secagg-input-request` → `eval.secagg-input`), so a round can report how far the unmasked sum
 * is from the plain sum. Nothing fetched here reaches the observer or an attack.
 */
import '../../shared/wire/secagg';
import type { ClientHub } from '../coordinator/hub';

let nextRequestId = 1;

/** Plain inputs by client; clients that are gone or answer "unavailable" are left out. */
export function fetchPlainInputs(hub: ClientHub, round: number, clients: string[], timeoutMs: number): Promise<Map<string, Float32Array>> {
  const got = new Map<string, Float32Array>();
  const pending = new Map<number, string>();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      unhandle();
      hub.off('disconnected', onGone);
      resolve(got);
    };
    const unhandle = hub.handle('eval.secagg-input', (clientId, msg) => {
      if (pending.get(msg.requestId) !== clientId || msg.round !== round) {
        hub.reject(
          clientId,
          'bad-message',
          `eval.secagg-input for request ${msg.requestId} (round ${msg.round}) that was not asked of ${clientId}`,
          'eval.secagg-input',
        );
        return;
      }
      pending.delete(msg.requestId);
      if (msg.available) got.set(clientId, msg.update);
      if (pending.size === 0) finish();
    });
    const onGone = (clientId: string): void => {
      for (const [id, c] of pending) if (c === clientId) pending.delete(id);
      if (pending.size === 0) finish();
    };
    hub.on('disconnected', onGone);
    for (const clientId of clients) {
      const requestId = nextRequestId++;
      if (hub.send(clientId, { type: 'eval.secagg-input-request', requestId, round }) > 0) pending.set(requestId, clientId);
    }
    if (pending.size === 0) return finish();
    timer = setTimeout(finish, timeoutMs);
  });
}
