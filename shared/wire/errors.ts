/** Protocol errors. `code` is what goes on the wire in an `error` message; see docs/protocol.md. */
export type WireErrorCode =
  /** The frame is not a msgpack map (or is a text frame). */
  | 'bad-frame'
  /** Field `v` is missing or not the server's protocol version. */
  | 'bad-version'
  /** Field `type` names no message this side accepts. */
  | 'unknown-type'
  /** A field is missing or has the wrong type or range. */
  | 'bad-message'
  /** A tensor holds NaN or ±Infinity. */
  | 'non-finite'
  /** A tensor's length differs from what the model needs. */
  | 'wrong-length'
  /** First message was not `hello`, or its token is unknown / already in use. */
  | 'unauthorized'
  /** Too many failed authentications from this address (then close 4029). */
  | 'rate-limited'
  /** An update names a round other than the one open, or the client was not selected. */
  | 'wrong-round'
  /** A second update from the same client in the same round. */
  | 'duplicate'
  /** The peer cannot serve the request (e.g. no ground truth for that round). */
  | 'unavailable'
  /** (client → server) The model definition in `welcome` is malformed or does not fit the client's data; the client cannot train. */
  | 'bad-model'
  /** (client → server) One of the client's own guards (client.guards) refused this round: "<guard>: <reason>". */
  | 'guard-refused'
  /** Anything else that went wrong on the sending side. */
  | 'internal';

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}
