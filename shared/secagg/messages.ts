/**
 * The secure-aggregation messages: plain objects with string, number and Uint8Array fields, so any
 * codec (msgpackr on the websocket) carries them unchanged. Every message names its round. Parsing
 * with these schemas is the first thing each side does with anything it receives; a malformed message
 * becomes a SecAggError that says which field is wrong.
 */
import { z } from 'zod';
import { SecAggError } from './errors';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected bytes (Uint8Array)' });
const round = z.number().int().positive();
const id = z.string().min(1);

// Server → client.

export const advertiseRequestSchema = z.strictObject({
  type: z.literal('secagg.advertise-request'),
  round,
  /** Selected clients in protocol order (the order decides mask signs). */
  participants: z.array(id).min(1),
  /** Resolved count of clients that must survive each stage. */
  threshold: z.number().int().positive(),
  neighbours: z.number().int().nonnegative(),
  /** Public seed of the SecAgg+ pairing graph. */
  graphSeed: z.number().int().nonnegative(),
  vectorLength: z.number().int().positive(),
  clippingRange: z.number().positive(),
  quantizationRange: z.number().int().positive(),
});

export const publicKeysSchema = z.strictObject({ clientId: id, encryptionKey: bytes, maskKey: bytes });

export const shareKeysRequestSchema = z.strictObject({
  type: z.literal('secagg.share-keys-request'),
  round,
  /** Keys of the clients that advertised (U1) — under SecAgg+ only the recipient's neighbourhood. */
  keys: z.array(publicKeysSchema),
});

export const maskedInputRequestSchema = z.strictObject({
  type: z.literal('secagg.masked-input-request'),
  round,
  /** U2: every client whose shares were relayed. */
  survivors: z.array(id),
  /** The ciphertexts addressed to the recipient, relayed untouched. */
  shares: z.array(z.strictObject({ from: id, ciphertext: bytes })),
});

export const unmaskRequestSchema = z.strictObject({
  type: z.literal('secagg.unmask-request'),
  round,
  /** U3: clients whose masked input arrived — the server asks for shares of their b. */
  survivors: z.array(id),
  /** U2 \ U3: clients that dropped after sharing keys — the server asks for shares of their s^SK. */
  dropped: z.array(id),
});

export const abortSchema = z.strictObject({ type: z.literal('secagg.abort'), round, reason: z.string() });

export const serverMessageSchema = z.discriminatedUnion('type', [
  advertiseRequestSchema,
  shareKeysRequestSchema,
  maskedInputRequestSchema,
  unmaskRequestSchema,
  abortSchema,
]);

// Client → server.

export const advertiseKeysSchema = z.strictObject({
  type: z.literal('secagg.advertise-keys'),
  round,
  clientId: id,
  /** c_u^PK: agreed with peers into the key that encrypts shares. */
  encryptionKey: bytes,
  /** s_u^PK: agreed with peers into the pairwise mask seeds. */
  maskKey: bytes,
});

export const shareKeysSchema = z.strictObject({
  type: z.literal('secagg.share-keys'),
  round,
  clientId: id,
  /** SHA-256 commitment to b_u, letting the server detect a wrong share at reconstruction. */
  seedCommitment: bytes,
  shares: z.array(z.strictObject({ to: id, ciphertext: bytes })),
});

export const maskedInputSchema = z.strictObject({
  type: z.literal('secagg.masked-input'),
  round,
  clientId: id,
  /** y_u as little-endian uint32 words. */
  masked: bytes,
  /** How many entries exceeded the clipping range (reported, never silent). */
  clipped: z.number().int().nonnegative(),
  /** Examples behind the input, as declared (the plain protocol reveals it too). */
  numExamples: z.number().int().nonnegative(),
});

export const unmaskSchema = z.strictObject({
  type: z.literal('secagg.unmask'),
  round,
  clientId: id,
  seedShares: z.array(z.strictObject({ of: id, share: bytes })),
  keyShares: z.array(z.strictObject({ of: id, share: bytes })),
});

/** An honest client's refusal of a request it must not answer; the server logs it and drops the client. */
export const refuseSchema = z.strictObject({ type: z.literal('secagg.refuse'), round, clientId: id, reason: z.string() });

export const clientMessageSchema = z.discriminatedUnion('type', [
  advertiseKeysSchema,
  shareKeysSchema,
  maskedInputSchema,
  unmaskSchema,
  refuseSchema,
]);

export type AdvertiseRequest = z.infer<typeof advertiseRequestSchema>;
export type ShareKeysRequest = z.infer<typeof shareKeysRequestSchema>;
export type MaskedInputRequest = z.infer<typeof maskedInputRequestSchema>;
export type UnmaskRequest = z.infer<typeof unmaskRequestSchema>;
export type AbortMessage = z.infer<typeof abortSchema>;
export type SecAggServerMessage = z.infer<typeof serverMessageSchema>;
export type AdvertiseKeys = z.infer<typeof advertiseKeysSchema>;
export type ShareKeys = z.infer<typeof shareKeysSchema>;
export type MaskedInput = z.infer<typeof maskedInputSchema>;
export type Unmask = z.infer<typeof unmaskSchema>;
export type Refuse = z.infer<typeof refuseSchema>;
export type SecAggClientMessage = z.infer<typeof clientMessageSchema>;

export const SECAGG_TYPE_PREFIX = 'secagg.';

export function isSecAggMessage(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith(SECAGG_TYPE_PREFIX)
  );
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`).join('; ');
}

export function parseServerMessage(message: unknown): SecAggServerMessage {
  const r = serverMessageSchema.safeParse(message);
  if (!r.success) throw new SecAggError(`malformed secure-aggregation message from the server: ${describe(r.error)}`);
  return r.data;
}

export function parseClientMessage(message: unknown, sender: string): SecAggClientMessage {
  const r = clientMessageSchema.safeParse(message);
  if (!r.success) throw new SecAggError(`malformed secure-aggregation message from ${sender}: ${describe(r.error)}`);
  return r.data;
}
