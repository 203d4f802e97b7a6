import type { PigeonClient } from '../types.js';
import { logout, password, signIn } from './account-commands.js';
import * as chat from './chat-commands.js';
import { CliError, describeError } from './cli-error.js';
import { CliContext, type CliIo, line, parseCli } from './context.js';
import { ExitCode } from './exit-codes.js';
import { download } from './file-commands.js';
import * as messages from './message-commands.js';
import { terminalSafe as safe } from './terminal-text.js';

export type { CliIo } from './context.js';

const USAGE = `Usage:
  pigeon register --server URL --user ID     create an account and save the session
  pigeon login    --server URL --user ID     log in and save the session
  pigeon send TO [TEXT|-] [--file PATH]... [--id ID] [--reply-to REF]
                                             send (- reads stdin; files are uploaded first);
                                             exits 0 once stored
  pigeon download FILE_ID [-o PATH] [--force] save an attachment (resumes an interrupted one)
  pigeon listen [--json] [--mark-read]       print messages and updates (acking them) until interrupted
  pigeon history WITH [--limit N] [--before CURSOR] [--json]
  pigeon conversations [--json]              one line per peer (with unread counts), newest first
  pigeon search WORDS [--with USER] [--limit N] [--before CURSOR] [--json]
  pigeon read WITH [--upto CURSOR]           mark the conversation read (up to its newest message)
  pigeon edit REF TEXT                       new text for your message (within 15 minutes)
  pigeon delete REF [--for-me]               delete for everyone (yours, within 15 minutes), or for you
  pigeon react REF EMOJI | --remove          react to a message, or remove your reaction
  pigeon block USER | unblock USER | blocked block, unblock, list the users you blocked
  pigeon receipts [on|off]                   show or set whether you send (and see) read receipts
  pigeon logout [--everywhere] [--local]     revoke the session on the server (--everywhere: all of
                                             them) and forget it; --local: only forget it here
  pigeon password                            change the password (PIGEON_NEW_PASSWORD or a prompt)

REF names a message: ID for one of yours, FROM/ID for anyone's (ids are shown in brackets).
Options: --timeout SECONDS (default 10) bounds connecting and waiting for the server.
The password comes from PIGEON_PASSWORD or a hidden prompt. The session is saved in
PIGEON_CONFIG (default ~/.config/pigeon/config.json).
Exit codes: 0 ok, 1 internal, 2 usage, 3 bad credentials / token refused, 4 no such user,
5 server unreachable, 6 refused by the server, 7 not logged in, 8 no such file (download).`;

function dispatch(ctx: CliContext, command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'register':
    case 'login':
      return signIn(ctx, command, args);
    case 'logout':
      return logout(ctx, args);
    case 'password':
      return password(ctx, args);
    case 'send':
      return messages.send(ctx, args);
    case 'listen':
      return messages.listen(ctx, args);
    case 'history':
      return messages.history(ctx, args);
    case 'conversations':
      return messages.conversations(ctx, args);
    case 'search':
      return messages.search(ctx, args);
    case 'download':
      return download(ctx, args);
    case 'read':
      return chat.read(ctx, args);
    case 'edit':
      return chat.edit(ctx, args);
    case 'delete':
      return chat.remove(ctx, args);
    case 'react':
      return chat.react(ctx, args);
    case 'block':
    case 'unblock':
      return chat.block(ctx, args, command === 'block');
    case 'blocked':
      return chat.blocked(ctx, args);
    case 'receipts':
      return chat.receipts(ctx, args);
    default:
      throw new CliError(ExitCode.usage, `unknown command: ${safe(command)}\n\n${USAGE}`);
  }
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    line(io.stderr, `pigeon: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    line(command || values.help ? io.stdout : io.stderr, USAGE);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  const timeoutSeconds = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    line(io.stderr, 'pigeon: --timeout must be a positive number of seconds');
    return ExitCode.usage;
  }
  const ctx = new CliContext(io, values, timeoutSeconds * 1000);
  try {
    return await dispatch(ctx, command, args);
  } catch (err) {
    const { exitCode, message } = describeError(err);
    line(io.stderr, `pigeon: ${message}`);
    return exitCode;
  } finally {
    const c: PigeonClient | null = ctx.client;
    if (c) {
      c.stop();
      await c.persisted().catch((err: unknown) => {
        line(io.stderr, `pigeon: warning: ${safe(err instanceof Error ? err.message : String(err))}`);
      });
    }
  }
}
