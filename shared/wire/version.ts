/** Wire protocol version: every message carries it as field `v`; a peer speaking another version is refused. */
export const PROTOCOL_VERSION = 1;
