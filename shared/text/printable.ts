/**
 * Peer-supplied text made safe for a log line or an error reply: control characters (C0, DEL, C1,
 * Unicode line/paragraph separators and bidirectional overrides) become visible escapes, so a peer
 * cannot forge a second log line or reorder what the reader sees; long text is cut, so a 1 MB field
 * cannot become a 1 MB log line.
 */

/** Default cap on peer-supplied text in logs and replies. */
export const MAX_PEER_TEXT = 200;

// C0 controls, DEL, C1 controls, U+2028/2029, bidi embeddings/overrides/isolates, BOM.
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with control characters escaped and cut to `max` characters (the cut is marked). */
export function printable(text: string, max = MAX_PEER_TEXT): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = cut.replace(UNSAFE, escapeChar);
  return text.length > max ? `${safe}… (${text.length - max} more characters)` : safe;
}

/** A short, printable description of any peer-supplied value (strings quoted, others by kind). */
export function describeValue(x: unknown, max = 40): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'nil';
  if (typeof x === 'string') return `"${printable(x, max).replace(/"/g, '\\"')}"`;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (x instanceof Uint8Array) return `binary of ${x.byteLength} bytes`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x;
}
