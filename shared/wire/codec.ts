/**
 * Frame codec: one websocket binary frame = one msgpack map. Encoding turns Float32Array / Int32Array
 * fields into msgpack `bin` (raw little-endian bytes); decoding checks the version and type, then
 * lets the message's spec validate every field.
 */
import { Packr, Unpackr } from 'msgpackr';
import { WireError } from './errors';
import { Fields } from './fields';
import { knownTypes, messageSpec, type WireMessage } from './messages';
import { float32ToBytes, int32ToBytes } from './tensor';
import { PROTOCOL_VERSION } from './version';
import { describeValue, printable } from '../text/printable';

// Plain msgpack only: no records/structures extension, so any msgpack library can read our frames.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function toWireValue(x: unknown): unknown {
  if (x instanceof Float32Array) return float32ToBytes(x);
  if (x instanceof Int32Array) return int32ToBytes(x);
  return x;
}

/** One frame for `msg`; the returned buffer is the caller's (a copy, safe to send asynchronously). */
export function encodeMessage(msg: WireMessage): Uint8Array {
  const out: Record<string, unknown> = { v: PROTOCOL_VERSION };
  for (const [k, val] of Object.entries(msg)) if (val !== undefined) out[k] = toWireValue(val);
  // packr reuses its internal buffer between calls: copy before handing it to an async socket.
  return new Uint8Array(packr.pack(out));
}

/**
 * Decodes and validates one frame received by `receiver` ('server' decodes what clients send).
 * Throws WireError with a code from docs/protocol.md.
 */
export function decodeFrame(data: Uint8Array, receiver: 'client' | 'server'): WireMessage {
  let raw: unknown;
  try {
    raw = unpackr.unpack(data);
  } catch (err) {
    throw new WireError(
      'bad-frame',
      `frame of ${data.byteLength} bytes is not valid msgpack (${printable(err instanceof Error ? err.message : String(err), 120)})`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) {
    throw new WireError('bad-frame', 'frame is msgpack but not a map; every message is a map with fields "v" and "type"');
  }
  const map = raw as Record<string, unknown>;
  if (map.v !== PROTOCOL_VERSION) {
    throw new WireError(
      'bad-version',
      `protocol version ${describeValue(map.v)} is not supported; this peer speaks version ${PROTOCOL_VERSION}`,
    );
  }
  if (typeof map.type !== 'string') throw new WireError('bad-message', 'field "type" is missing or not a string');
  const sender = receiver === 'server' ? 'client' : 'server';
  const spec = messageSpec(map.type);
  if (!spec || (spec.from !== sender && spec.from !== 'both')) {
    throw new WireError(
      'unknown-type',
      `unknown message type ${describeValue(map.type)} from a ${sender}; expected one of ${knownTypes(sender).join(', ')}`,
    );
  }
  return spec.decode(new Fields(map.type, map));
}
