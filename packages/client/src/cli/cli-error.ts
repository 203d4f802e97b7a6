import { ErrorCode, HttpErrorCode } from '@pigeon/protocol';
import { ClientErrorCode, PigeonHttpError, PigeonRequestError } from '../errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { terminalSafe as safe } from './terminal-text.js';

/** A failure with its exit code and a message fit for the terminal (untrusted parts already escaped). */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** One message as a line of text; everything from the server is escaped (terminal-text.ts). */

/** The exit code and the message (untrusted parts escaped) for any error a command ends with. */
export function describeError(err: unknown): { exitCode: number; message: string } {
  // CliError messages are built by the commands, their untrusted parts already escaped.
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof PigeonHttpError) {
    const message =
      err.code === HttpErrorCode.badCredentials
        ? 'bad credentials (unknown user or wrong password)'
        : err.code === ClientErrorCode.unreachable
          ? `server unreachable: ${safe(err.message)}`
          : err.code === HttpErrorCode.rateLimited
            ? `too many attempts; retry in ${err.retryAfterSeconds ?? '?'} s`
            : `${safe(err.code)}: ${safe(err.message)}`;
    return { exitCode: exitCodeFor(err.code), message };
  }
  if (err instanceof PigeonRequestError) {
    const what = err.code === ErrorCode.noSuchUser ? 'no such user' : safe(err.code);
    return { exitCode: exitCodeFor(err.code), message: `${what}: ${safe(err.message)}` };
  }
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { exitCode: ExitCode.internal, message: `unexpected error: ${safe(text)}` };
}
