/**
 * A problem with a data file or data configuration. The CLI prints errors of this name as one
 * paragraph without a stack trace, so the message must say which file and what is wrong.
 */
export class DataError extends Error {
  override name = 'DataError';
  constructor(message: string) {
    super(message);
  }
}
