/**
 * The client's guards (`fedleak client --guards pin-model,inspect-parameters --model-hash H`; in a
 * simulation the spawner passes scenario client.guards). They check the model the server sends
 * before the client trains on it; a refusal is a WireError 'guard-refused' with the message
 * "<guard>: <reason>" in reply to round.start, so the server drops the client from that round and
 * records the refusal. The client stays connected.
 */
import type { GuardConfig } from '../../shared/guards';
import type { ParamSpec } from '../../shared/models/types';
import { WireError } from '../../shared/wire';
import { inspectParameters } from './inspect-parameters';
import { checkPinFormat, checkPinnedModel } from './pin-model';
import { leakageGate } from './leakage-gate';
import type { ImageShape } from '../../shared/models/types';

export interface GuardRefusal {
  guard: string;
  reason: string;
}

/** Throws on a configuration fault (pin-model without a well-formed hash), before any connection. */
export function checkGuardConfig(config: GuardConfig): void {
  if (config.guards.includes('pin-model')) {
    if (!config.modelHash) throw new Error('--guards pin-model needs --model-hash (the hash `fedleak server` prints)');
    checkPinFormat(config.modelHash);
  }
}

/** pin-model, on the definition in `welcome` (before the client builds anything from it). */
export function welcomeRefusal(definition: unknown, config: GuardConfig | undefined): GuardRefusal | null {
  if (!config?.guards.includes('pin-model') || !config.modelHash) return null;
  const verdict = checkPinnedModel(definition, config.modelHash);
  return verdict.accepted ? null : { guard: 'pin-model', reason: verdict.reason };
}

/** inspect-parameters, on each round's parameters (architecture unchanged, crafted weights). */
export function roundRefusal(config: GuardConfig | undefined, specs: readonly ParamSpec[], params: Float32Array): GuardRefusal | null {
  if (!config?.guards.includes('inspect-parameters')) return null;
  const verdict = inspectParameters(specs, params);
  return verdict.suspicious ? { guard: 'inspect-parameters', reason: verdict.reason } : null;
}

/** leakage-gate, on the update about to leave (NVFlare's RDLV filter; client/guards/leakage-gate.ts). */
export function updateRefusal(
  config: GuardConfig | undefined,
  specs: readonly ParamSpec[],
  update: Float32Array,
  examples: { images: Float32Array; count: number; shape: ImageShape },
): GuardRefusal | null {
  if (!config?.guards.includes('leakage-gate')) return null;
  const verdict = leakageGate(specs, update, examples.images, examples.count, examples.shape);
  return verdict.leaky ? { guard: 'leakage-gate', reason: verdict.reason } : null;
}

export function refusalError(r: GuardRefusal): WireError {
  return new WireError('guard-refused', `${r.guard}: ${r.reason}`);
}
