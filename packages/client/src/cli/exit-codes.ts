/** Exit codes of the `pigeon` CLI, one per kind of failure a script may want to tell apart. */
export const ExitCode = {
  ok: 0,
  /** Anything unexpected (a bug, a storage failure). */
  internal: 1,
  /** Bad command line. */
  usage: 2,
  /** Bad credentials at login, or the saved token was refused (log in again). */
  badCredentials: 3,
  /** The recipient / history peer does not exist. */
  noSuchUser: 4,
  /** The server could not be reached (or not within --timeout). */
  unreachable: 5,
  /**
   * The server refused the request: invalid_user, weak_password, user_taken, too_large,
   * bad_frame, rate_limited, unsupported version; for the chat commands too_late, not_yours,
   * no_such_message, message_deleted, limit_reached, or a feature the server does not offer.
   */
  refused: 6,
  /** No saved session: run `pigeon login` or `pigeon register` first. */
  notLoggedIn: 7,
  /** `download`: no such file, or not one of yours to see (the server answers both alike). */
  noSuchFile: 8,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

import { ErrorCode, HttpErrorCode } from '@pigeon/protocol';
import { ClientErrorCode, StatusReason } from '../errors.js';

/** Maps an error code (server or client) to the exit code. */
export function exitCodeFor(code: string): ExitCode {
  switch (code) {
    case HttpErrorCode.badCredentials:
    case HttpErrorCode.unauthorized:
      return ExitCode.badCredentials;
    case ErrorCode.noSuchUser:
      return ExitCode.noSuchUser;
    case ClientErrorCode.unreachable:
    case ClientErrorCode.timeout:
    case ClientErrorCode.disconnected:
      return ExitCode.unreachable;
    case ClientErrorCode.noSession:
      return ExitCode.notLoggedIn;
    case ClientErrorCode.invalidArgument:
      return ExitCode.usage;
    case HttpErrorCode.invalidUser:
    case HttpErrorCode.weakPassword:
    case HttpErrorCode.userTaken:
    case ErrorCode.tooLarge:
    case ErrorCode.badFrame:
    case ErrorCode.rateLimited:
    case StatusReason.unsupportedVersion:
    case ErrorCode.tooLate:
    case ErrorCode.notYours:
    case ErrorCode.noSuchMessage:
    case ErrorCode.messageDeleted:
    case ErrorCode.limitReached:
    case ClientErrorCode.unsupported:
    case ErrorCode.noSuchFile:
    case HttpErrorCode.invalidFile:
    case HttpErrorCode.emptyFile:
    case HttpErrorCode.fileTooLarge:
    case HttpErrorCode.quotaExceeded:
    case HttpErrorCode.typeMismatch:
    case HttpErrorCode.imageTooLarge:
    case HttpErrorCode.checksumMismatch:
    case ClientErrorCode.uploadFailed:
      return ExitCode.refused;
    case HttpErrorCode.notFound:
      return ExitCode.noSuchFile;
    default:
      return ExitCode.internal;
  }
}
