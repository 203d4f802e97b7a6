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
  /** The server refused the request: invalid_user, weak_password, user_taken, too_large, bad_frame, rate_limited, unsupported version. */
  refused: 6,
  /** No saved session: run `pigeon login` or `pigeon register` first. */
  notLoggedIn: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Maps an error code (server or client) to the exit code. */
export function exitCodeFor(code: string): ExitCode {
  switch (code) {
    case 'bad_credentials':
    case 'unauthorized':
      return ExitCode.badCredentials;
    case 'no_such_user':
      return ExitCode.noSuchUser;
    case 'unreachable':
    case 'timeout':
    case 'disconnected':
      return ExitCode.unreachable;
    case 'no_session':
      return ExitCode.notLoggedIn;
    case 'invalid_argument':
      return ExitCode.usage;
    case 'invalid_user':
    case 'weak_password':
    case 'user_taken':
    case 'too_large':
    case 'bad_frame':
    case 'rate_limited':
    case 'unsupported_version':
      return ExitCode.refused;
    default:
      return ExitCode.internal;
  }
}
