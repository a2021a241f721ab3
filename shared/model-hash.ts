/**
 * Canonical hash of a model definition, for pin-model: the client accepts only the definition whose
 * hash it was given at enrolment. sha256 over a canonical JSON text: object keys sorted (by UTF-16
 * code units), no whitespace, numbers as JSON prints them, properties whose value is undefined left
 * out (as JSON.stringify does). Takes `unknown` so it does not depend on the definition's type.
 * Anything JSON cannot carry faithfully (NaN, ±∞, functions, bigints, symbols, typed arrays, Maps,
 * class instances, cycles) is refused with the path where it sits. Lives in shared/: the server
 * prints the hash and the client checks it.
 */
import { createHash } from 'node:crypto';

export class ModelHashError extends Error {}

function canonical(value: unknown, path: string, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new ModelHashError(`model hash: ${path} is ${value}; only finite numbers have a JSON form`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new ModelHashError(`model hash: ${path} is a ${typeof value}; only JSON values can be hashed`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new ModelHashError(`model hash: ${path} refers back to itself (a cycle)`);
  seen.add(obj);
  let text: string;
  if (Array.isArray(obj)) {
    text = `[${obj.map((v, i) => canonical(v === undefined ? null : v, `${path}[${i}]`, seen)).join(',')}]`;
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null)
      throw new ModelHashError(
        `model hash: ${path} is a ${obj.constructor?.name ?? 'non-plain'} object; only plain objects and arrays can be hashed`,
      );
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    text = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k], `${path}.${k}`, seen)}`).join(',')}}`;
  }
  seen.delete(obj);
  return text;
}

/** The canonical JSON text a hash is taken over. */
export function canonicalJson(value: unknown): string {
  return canonical(value, 'definition', new Set());
}

/** "sha256:<64 hex digits>" of the canonical JSON. */
export function modelHash(definition: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(definition), 'utf8').digest('hex')}`;
}
