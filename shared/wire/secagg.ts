/**
 * Secure-aggregation messages on the fedleak wire (docs/protocol.md, "Secure aggregation"). The
 * protocol messages are those of shared/secagg/messages.ts, carried field for field (byte strings as
 * msgpack bin); decoding validates them with the same schemas. Also the simulator-only
 * `eval.secagg-input` pair, by which the server checks the unmasked sum against the clients' plain
 * inputs (never given to attacks).
 */
import type { z } from 'zod';
import {
  abortSchema,
  advertiseKeysSchema,
  advertiseRequestSchema,
  maskedInputRequestSchema,
  maskedInputSchema,
  refuseSchema,
  shareKeysRequestSchema,
  shareKeysSchema,
  unmaskRequestSchema,
  unmaskSchema,
  type AbortMessage,
  type AdvertiseKeys,
  type AdvertiseRequest,
  type MaskedInput,
  type MaskedInputRequest,
  type Refuse,
  type ShareKeys,
  type ShareKeysRequest,
  type Unmask,
  type UnmaskRequest,
} from '../secagg/messages';
import { WireError } from './errors';
import type { Fields } from './fields';
import { registerMessage, type MessageType, type Sender } from './messages';

/** SIMULATOR ONLY: asks a client for the plain input it fed into secure aggregation in `round`. */
export interface EvalSecAggInputRequest {
  type: 'eval.secagg-input-request';
  requestId: number;
  round: number;
}

/** SIMULATOR ONLY: the plain input (after the client's defences), or available = false. */
export interface EvalSecAggInput {
  type: 'eval.secagg-input';
  requestId: number;
  round: number;
  available: boolean;
  update: Float32Array;
}

declare module './messages' {
  interface MessageMap {
    'secagg.advertise-request': AdvertiseRequest;
    'secagg.share-keys-request': ShareKeysRequest;
    'secagg.masked-input-request': MaskedInputRequest;
    'secagg.unmask-request': UnmaskRequest;
    'secagg.abort': AbortMessage;
    'secagg.advertise-keys': AdvertiseKeys;
    'secagg.share-keys': ShareKeys;
    'secagg.masked-input': MaskedInput;
    'secagg.unmask': Unmask;
    'secagg.refuse': Refuse;
    'eval.secagg-input-request': EvalSecAggInputRequest;
    'eval.secagg-input': EvalSecAggInput;
  }
}

/** Registers a protocol message whose fields are validated by its zod schema. */
function registerSchema<T extends MessageType>(type: T, from: Sender, schema: z.ZodObject): void {
  const keys = Object.keys(schema.shape);
  registerMessage({
    type,
    from,
    decode: (f: Fields) => {
      const candidate: Record<string, unknown> = {};
      for (const k of keys) if (f.has(k)) candidate[k] = f.raw(k);
      const r = schema.safeParse(candidate);
      if (!r.success) {
        const why = r.error.issues.map((i) => `${type}.${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
        throw new WireError('bad-message', why);
      }
      return r.data as never;
    },
  });
}

registerSchema('secagg.advertise-request', 'server', advertiseRequestSchema);
registerSchema('secagg.share-keys-request', 'server', shareKeysRequestSchema);
registerSchema('secagg.masked-input-request', 'server', maskedInputRequestSchema);
registerSchema('secagg.unmask-request', 'server', unmaskRequestSchema);
registerSchema('secagg.abort', 'server', abortSchema);
registerSchema('secagg.advertise-keys', 'client', advertiseKeysSchema);
registerSchema('secagg.share-keys', 'client', shareKeysSchema);
registerSchema('secagg.masked-input', 'client', maskedInputSchema);
registerSchema('secagg.unmask', 'client', unmaskSchema);
registerSchema('secagg.refuse', 'client', refuseSchema);

registerMessage({
  type: 'eval.secagg-input-request',
  from: 'server',
  decode: (f) => ({ type: 'eval.secagg-input-request', requestId: f.int('requestId'), round: f.int('round', 1) }),
});

registerMessage({
  type: 'eval.secagg-input',
  from: 'client',
  decode: (f) => ({
    type: 'eval.secagg-input',
    requestId: f.int('requestId'),
    round: f.int('round', 1),
    available: f.bool('available'),
    update: f.float32('update'),
  }),
});

/** The secure-aggregation message types each side sends. */
export const SECAGG_CLIENT_TYPES = [
  'secagg.advertise-keys',
  'secagg.share-keys',
  'secagg.masked-input',
  'secagg.unmask',
  'secagg.refuse',
] as const;
export const SECAGG_SERVER_TYPES = [
  'secagg.advertise-request',
  'secagg.share-keys-request',
  'secagg.masked-input-request',
  'secagg.unmask-request',
  'secagg.abort',
] as const;
