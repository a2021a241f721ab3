/**
 * One error type for everything secure aggregation refuses: a malformed or out-of-place message, a
 * failed authentication, a threshold not met, a request an honest client must not answer. The
 * message always names the stage, the round and the party concerned, so a log line is enough to
 * tell what went wrong.
 */
export class SecAggError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecAggError';
  }
}
