/**
 * The evaluation channel (`eval.truth-request`: the raw examples behind an update;
 * `eval.secagg-input-request`: the plain input to secure aggregation) exists only so that a
 * simulation can score itself. A client answers it only when `fedleak run` spawned it on loopback
 * or its user passed `--allow-evaluation`; otherwise any server could bypass secure aggregation,
 * and see the training data, just by asking.
 */
import type { WireMessage } from '../shared/wire';

const EVALUATION_REQUESTS: ReadonlySet<string> = new Set(['eval.truth-request', 'eval.secagg-input-request']);

export interface EvaluationGuardContext {
  clientName: string;
  send: (msg: WireMessage) => void;
  log: (line: string) => void;
  /** The option that turns the channel on for this client: --allow-evaluation, or --share-truth for client-held data. */
  enableWith?: string;
}

/**
 * True when `msg` is an evaluation request this client must not answer: it has then been refused
 * (an `error` to the server, a line in the client's log) and the caller does nothing else with it.
 */
export function refuseEvaluation(msg: WireMessage, allowed: boolean, ctx: EvaluationGuardContext): boolean {
  if (allowed || !EVALUATION_REQUESTS.has(msg.type)) return false;
  const m = msg as unknown as { requestId?: unknown; round?: unknown };
  const requestId = typeof m.requestId === 'number' ? m.requestId : undefined;
  const round = typeof m.round === 'number' ? m.round : '?';
  const option = ctx.enableWith ?? '--allow-evaluation';
  ctx.log(
    `${ctx.clientName}: refused ${msg.type} for round ${round}: the evaluation channel is off (this client never sends its raw data or plain update; ${option} turns it on for a simulation)`,
  );
  ctx.send({
    type: 'error',
    code: 'unavailable',
    message: `${ctx.clientName} refuses ${msg.type}: the evaluation channel is off on this client (it is on only for clients spawned by fedleak run, or started with ${option})`,
    ref: msg.type,
    ...(requestId !== undefined ? { requestId } : {}),
  });
  return true;
}
