/** A mistake in how the command was called: exit code 2, and the message says what is valid. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** The user pressed Ctrl-C at a prompt: exit code 130, nothing written. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  readonly exitCode = 130;
}

/** Anything else that stops the run (conflicts, a failed write or install): exit code 1. */
export class GeneratorError extends Error {
  override name = 'GeneratorError';
  readonly exitCode = 1;
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof CancelledError || error instanceof GeneratorError) {
    return error.exitCode;
  }
  return 1;
}

/**
 * A file system error as the user should read it, without the path node appends (the caller names the
 * path the user knows, not a temp file): `permission denied (EACCES)`.
 */
export function describeSystemError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, message } = error as NodeJS.ErrnoException;
  const reason = /^[A-Z]+: (.+?), \w+ '/.exec(message)?.[1];
  return code !== undefined && reason !== undefined ? `${reason} (${code})` : message;
}
