/** Errors meant for the person at the terminal: printed as one paragraph, no stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** True for errors whose message is the whole story (bad input, missing files). */
export function isUserFacing(err: unknown): err is Error {
  return (
    err instanceof Error &&
    [
      'UserError',
      'ScenarioError',
      'DataError',
      'CaptureError',
      'AccountantError',
      'BackendError',
      'TokensFileError',
      'TokenSourceError',
      'OutDirError',
      'ServerUnreachableError',
    ].includes(err.name)
  );
}
