/**
 * Tensors on the wire are msgpack `bin` values holding raw little-endian IEEE-754 float32 (or int32)
 * bytes, never arrays of numbers. Decoding always copies into a fresh, 4-byte-aligned buffer: the
 * bytes msgpackr hands back are a view into the received frame at an arbitrary offset.
 */
import * as os from 'node:os';

if (os.endianness() !== 'LE') {
  // Typed arrays use the machine's byte order; the protocol fixes little-endian.
  throw new Error('fedleak wire protocol: this machine is big-endian; tensors on the wire are little-endian float32');
}

/** A byte view of the array's own memory (no copy). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function int32ToBytes(values: Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Copies `bytes` (length a multiple of 4) into a new Float32Array. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function bytesToInt32(bytes: Uint8Array): Int32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of int32 values`);
  const out = new Int32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Index of the first NaN or ±Infinity, or −1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // x − x is NaN exactly for NaN and ±Infinity, and cheaper than Number.isFinite in a hot loop.
    if (x - x !== 0) return i;
  }
  return -1;
}
