/**
 * Typed access to the fields of a decoded msgpack map, each failure a WireError naming the message
 * type and the field. Message specs use it to turn an untrusted map into a typed message.
 */
import { WireError } from './errors';
import { bytesToFloat32, bytesToInt32, firstNonFinite } from './tensor';
import { describeValue } from '../text/printable';

export class Fields {
  constructor(
    readonly type: string,
    private readonly map: Record<string, unknown>,
  ) {}

  private fail(name: string, what: string): never {
    throw new WireError('bad-message', `${this.type}.${name}: ${what}`);
  }

  has(name: string): boolean {
    return this.map[name] !== undefined && this.map[name] !== null;
  }

  raw(name: string): unknown {
    return this.map[name];
  }

  str(name: string, maxLength = 4096): string {
    const x = this.map[name];
    if (typeof x !== 'string') this.fail(name, `expected a string, got ${describe(x)}`);
    if (x.length > maxLength) this.fail(name, `string longer than ${maxLength} characters`);
    return x;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const x = this.str(name);
    if (!(values as readonly string[]).includes(x))
      this.fail(name, `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(x)}`);
    return x as T;
  }

  /** An integer in [min, max]. */
  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const x = this.map[name];
    if (typeof x !== 'number' || !Number.isInteger(x)) this.fail(name, `expected an integer, got ${describe(x)}`);
    if (x < min || x > max) this.fail(name, `${x} is outside [${min}, ${max}]`);
    return x;
  }

  /** A finite number. */
  num(name: string): number {
    const x = this.map[name];
    if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(name, `expected a finite number, got ${describe(x)}`);
    return x;
  }

  bool(name: string): boolean {
    const x = this.map[name];
    if (typeof x !== 'boolean') this.fail(name, `expected a boolean, got ${describe(x)}`);
    return x;
  }

  bytes(name: string): Uint8Array {
    const x = this.map[name];
    if (!(x instanceof Uint8Array)) this.fail(name, `expected binary (msgpack bin), got ${describe(x)}`);
    return x;
  }

  /** Raw little-endian float32 bytes → a fresh aligned Float32Array; NaN/Inf rejected. */
  float32(name: string): Float32Array {
    const b = this.bytes(name);
    if (b.byteLength % 4 !== 0) this.fail(name, `${b.byteLength} bytes is not a whole number of float32 values`);
    const values = bytesToFloat32(b);
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new WireError('non-finite', `${this.type}.${name}: value ${bad} is ${values[bad]} (NaN and ±Infinity are refused)`);
    return values;
  }

  int32(name: string): Int32Array {
    const b = this.bytes(name);
    if (b.byteLength % 4 !== 0) this.fail(name, `${b.byteLength} bytes is not a whole number of int32 values`);
    return bytesToInt32(b);
  }

  intArray(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number[] {
    const x = this.map[name];
    if (!Array.isArray(x)) this.fail(name, `expected an array of integers, got ${describe(x)}`);
    return x.map((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        this.fail(`${name}[${i}]`, `expected an integer in [${min}, ${max}], got ${describe(v)}`);
      return v;
    });
  }

  strArray(name: string): string[] {
    const x = this.map[name];
    if (!Array.isArray(x)) this.fail(name, `expected an array of strings, got ${describe(x)}`);
    return x.map((v, i) => {
      if (typeof v !== 'string') this.fail(`${name}[${i}]`, `expected a string, got ${describe(v)}`);
      return v;
    });
  }

  /** A nested map, returned as a plain object (no further checks). */
  object(name: string): Record<string, unknown> {
    const x = this.map[name];
    if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array)
      this.fail(name, `expected a map, got ${describe(x)}`);
    return x as Record<string, unknown>;
  }
}

export function describe(x: unknown): string {
  if (x === undefined) return 'nothing (field missing)';
  if (x === null) return 'nil';
  if (x instanceof Uint8Array) return `binary of ${x.byteLength} bytes`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'string') return `the string ${describeValue(x)}`;
  if (typeof x === 'number') return `the number ${x}`;
  return typeof x;
}
