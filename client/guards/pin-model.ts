/**
 * Guard core: pin-model. The client accepts only the model definition whose canonical hash it was
 * given at enrolment (`fedleak client --model-hash`). A changed architecture (an inserted imprint
 * block, say) or a definition that is not plain JSON is refused with a reason for the log line and
 * results.json; the client then sits the round out.
 */
import { ModelHashError, modelHash } from '../../shared/model-hash';

export interface PinVerdict {
  accepted: boolean;
  /** "" when accepted. */
  reason: string;
  /** Hash of what arrived (null when it could not be hashed). */
  received: string | null;
}

const HASH_FORMAT = /^sha256:[0-9a-f]{64}$/;

/** Throws on a malformed pin (a configuration error, caught before any round). */
export function checkPinFormat(pinnedHash: string): void {
  if (!HASH_FORMAT.test(pinnedHash)) {
    throw new Error(`--model-hash: expected "sha256:" and 64 lowercase hex digits (as printed by fedleak server), got "${pinnedHash}"`);
  }
}

export function checkPinnedModel(definition: unknown, pinnedHash: string): PinVerdict {
  checkPinFormat(pinnedHash);
  let received: string;
  try {
    received = modelHash(definition);
  } catch (err) {
    if (!(err instanceof ModelHashError)) throw err;
    return { accepted: false, reason: `the model definition sent is not plain JSON (${err.message})`, received: null };
  }
  if (received === pinnedHash) return { accepted: true, reason: '', received };
  return { accepted: false, reason: `the model definition sent has hash ${received}, not the pinned ${pinnedHash}`, received };
}
