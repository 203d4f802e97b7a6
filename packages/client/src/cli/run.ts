import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { MsgFrame } from '@pigeon/protocol';
import { ErrorCode } from '@pigeon/protocol';
import { createNodeClient } from '../node/create-node-client.js';
import { fileStorage } from '../node/file-storage.js';
import { DEFAULTS } from '../options.js';
import { parseStoredSession } from '../stored-shapes.js';
import type { OutboxItem, PigeonClient } from '../types.js';
import { CliError, describeError } from './cli-error.js';
import {
  configPath,
  legacyStateFile,
  readConfig,
  removeConfig,
  stateDir,
  writeConfig,
} from './config-file.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { promptHidden } from './prompt.js';
import { terminalSafeJson as json, terminalSafe as safe } from './terminal-text.js';
import { connect, waitSettled } from './waits.js';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Parameters<typeof promptHidden>[1];
  env: Record<string, string | undefined>;
  /** Calls back on SIGINT/SIGTERM; returns an unsubscribe function. */
  onInterrupt(callback: () => void): () => void;
}

const SESSION_KEY = `${DEFAULTS.storagePrefix}session`;

export const USAGE = `Usage:
  pigeon register --server URL --user ID     create an account and save the session
  pigeon login    --server URL --user ID     log in and save the session
  pigeon send TO TEXT|- [--id ID]            send (- reads stdin); exits 0 once stored
  pigeon listen [--json]                     print incoming messages (acking them) until interrupted
  pigeon history WITH [--limit N] [--before CURSOR] [--json]
  pigeon conversations [--json]              one line per peer, newest first
  pigeon logout [--everywhere] [--local]     revoke the session on the server (--everywhere: all of
                                             them) and forget it; --local: only forget it here
  pigeon password                            change the password (PIGEON_NEW_PASSWORD or a prompt)

Options: --timeout SECONDS (default 10) bounds connecting and waiting for the server.
The password comes from PIGEON_PASSWORD or a hidden prompt. The session is saved in
PIGEON_CONFIG (default ~/.config/pigeon/config.json).
Exit codes: 0 ok, 1 internal, 2 usage, 3 bad credentials / token refused, 4 no such user,
5 server unreachable, 6 refused by the server, 7 not logged in.`;

function formatMessage(m: MsgFrame): string {
  return `${new Date(m.ts).toISOString()} ${safe(m.from)} -> ${safe(m.to)}: ${safe(m.body)}`;
}

function line(stream: Writable, text: string): void {
  stream.write(`${text}\n`);
}

function describeOutboxFailure(item: OutboxItem): CliError {
  const code = item.error ?? ErrorCode.badFrame;
  const text =
    code === ErrorCode.noSuchUser
      ? `no such user: ${safe(item.to)}`
      : `message refused (${code}): ${safe(item.errorMessage ?? '')}`;
  return new CliError(exitCodeFor(code), text);
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
  const timeoutMs = timeoutSeconds * 1000;
  const cfgPath = configPath(io.env);
  let client: PigeonClient | null = null;
  const state = fileStorage(stateDir(cfgPath), { legacyFile: legacyStateFile(cfgPath) });

  /** Only `listen` processes (and acks) the inbox; `send` and `history` leave it for the next listen. */
  const sessionClient = async (processInbox = false): Promise<PigeonClient> => {
    const cfg = readConfig(cfgPath);
    if (!cfg)
      throw new CliError(
        ExitCode.notLoggedIn,
        `not logged in (no session in ${cfgPath}): run \`pigeon login\``,
      );
    const c = createNodeClient({
      server: cfg.server,
      storage: state,
      processInbox,
      requestTimeoutMs: timeoutMs,
    });
    await c.useToken(cfg.user, cfg.token);
    client = c;
    return c;
  };

  try {
    switch (command) {
      case 'register':
      case 'login': {
        if (args.length > 0)
          throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
        const saved = readConfig(cfgPath);
        const server = values.server ?? io.env.PIGEON_SERVER ?? saved?.server;
        const user = values.user ?? saved?.user;
        if (!server) throw new CliError(ExitCode.usage, '--server URL is required');
        if (!user) throw new CliError(ExitCode.usage, '--user ID is required');
        const password = io.env.PIGEON_PASSWORD ?? (await promptHidden('Password: ', io.stdin, io.stderr));
        const c = createNodeClient({ server, storage: state, requestTimeoutMs: timeoutMs });
        const session =
          command === 'register' ? await c.register(user, password) : await c.login(user, password);
        writeConfig(cfgPath, { server, user: session.user, token: session.token });
        line(
          io.stdout,
          `${command === 'register' ? 'Registered' : 'Logged in'} as ${session.user} on ${server}`,
        );
        return ExitCode.ok;
      }
      case 'logout': {
        if (args.length > 0)
          throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
        // The token is revoked on the server first (unless --local): a copy of the config
        // elsewhere must stop working too. If that fails, the session is kept, and said so.
        if (readConfig(cfgPath) && !values.local) {
          const c = await sessionClient(false);
          await c.logout({ revoke: values.everywhere ? 'everywhere' : 'session' }).catch((err: unknown) => {
            const { exitCode, message } = describeError(err);
            const hint = 'the session is kept; `pigeon logout --local` forgets it here anyway';
            throw new CliError(exitCode, `could not revoke the session: ${message}; ${hint}`);
          });
        }
        removeConfig(cfgPath);
        line(io.stdout, values.everywhere ? 'Logged out on every device' : 'Logged out');
        return ExitCode.ok;
      }
      case 'password': {
        if (args.length > 0)
          throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
        const c = await sessionClient(false);
        const current =
          io.env.PIGEON_PASSWORD ?? (await promptHidden('Current password: ', io.stdin, io.stderr));
        const next =
          io.env.PIGEON_NEW_PASSWORD ?? (await promptHidden('New password: ', io.stdin, io.stderr));
        await c.changePassword(current, next);
        // The client saved the fresh token in its state; the config gets it too.
        const fresh = parseStoredSession(await state.get(SESSION_KEY));
        const cfg = readConfig(cfgPath);
        if (!fresh || !cfg) throw new CliError(ExitCode.internal, 'the new session could not be saved');
        writeConfig(cfgPath, { ...cfg, token: fresh.token });
        line(io.stdout, 'Password changed; other devices are signed out');
        return ExitCode.ok;
      }
      case 'send': {
        const [to, ...words] = args;
        if (!to || words.length === 0) throw new CliError(ExitCode.usage, 'usage: pigeon send TO TEXT');
        // TEXT "-" reads the body from stdin (one trailing newline dropped), for multi-line bodies.
        const body = words.length === 1 && words[0] === '-' ? await readAll(io.stdin) : words.join(' ');
        const c = await sessionClient();
        await connect(c, timeoutMs);
        const item = c.send(to, body, values.id === undefined ? {} : { id: values.id });
        const settled = await waitSettled(c, item.id, timeoutMs);
        if (!settled) {
          c.discard(item.id);
          throw new CliError(
            ExitCode.unreachable,
            `server unreachable: no confirmation for message ${item.id} within ${timeoutMs} ms (it may have been stored; resend with --id ${item.id} to avoid a duplicate)`,
          );
        }
        if (settled.state === 'failed') throw describeOutboxFailure(settled);
        line(io.stdout, `sent ${safe(settled.id)} at ${new Date(settled.ts ?? Date.now()).toISOString()}`);
        return ExitCode.ok;
      }
      case 'listen': {
        if (args.length > 0)
          throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
        const c = await sessionClient(true);
        const asJson = values.json === true;
        c.on('message', (m) => line(io.stdout, asJson ? json(m) : formatMessage(m)));
        if (asJson) c.on('receipt', (r) => line(io.stdout, json({ t: 'receipt', ...r })));
        c.on('gap', () =>
          line(io.stderr, 'note: older messages were removed by retention before they were seen'),
        );
        await connect(c, timeoutMs);
        line(io.stderr, `listening as ${c.user} (Ctrl-C to stop)`);
        return await new Promise<number>((resolve) => {
          const offStatus = c.status.subscribe((s) => {
            if (s.state === 'reconnecting' && s.nextAttemptAt !== undefined) {
              line(
                io.stderr,
                `connection lost (${safe(s.reason ?? '?')}); retrying in ${Math.max(0, s.nextAttemptAt - Date.now())} ms`,
              );
            } else if (s.state === 'online') {
              line(io.stderr, 'reconnected');
            } else if (s.state === 'unauthorized') {
              line(io.stderr, 'pigeon: the session was refused: run `pigeon login` again');
              finish(ExitCode.badCredentials);
            }
          });
          const offSignal = io.onInterrupt(() => finish(ExitCode.ok));
          function finish(code: number) {
            offStatus();
            offSignal();
            resolve(code);
          }
        });
      }
      case 'history': {
        const [peer, ...rest] = args;
        if (!peer || rest.length > 0) throw new CliError(ExitCode.usage, 'usage: pigeon history WITH');
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        const c = await sessionClient();
        await connect(c, timeoutMs);
        const page = await c.history(peer, {
          ...(limit === undefined ? {} : { limit }),
          ...(values.before === undefined ? {} : { before: values.before }),
        });
        for (const m of page.items) line(io.stdout, values.json ? json(m) : formatMessage(m));
        if (page.more && !values.json)
          line(io.stderr, `(older messages exist: --before ${safe(page.items[0]?.cursor ?? '')})`);
        return ExitCode.ok;
      }
      case 'conversations': {
        if (args.length > 0)
          throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
        const c = await sessionClient();
        await connect(c, timeoutMs);
        for (const conv of await c.conversations()) {
          line(io.stdout, values.json ? json(conv) : `${safe(conv.with)}\t${formatMessage(conv.last)}`);
        }
        return ExitCode.ok;
      }
      default:
        throw new CliError(ExitCode.usage, `unknown command: ${safe(command)}\n\n${USAGE}`);
    }
  } catch (err) {
    const { exitCode, message } = describeError(err);
    line(io.stderr, `pigeon: ${message}`);
    return exitCode;
  } finally {
    const c = client as PigeonClient | null;
    if (c) {
      c.stop();
      await c.persisted().catch((err: unknown) => {
        line(io.stderr, `pigeon: warning: ${safe(err instanceof Error ? err.message : String(err))}`);
      });
    }
  }
}

function parseCli(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      before: { type: 'string' },
      id: { type: 'string' },
      everywhere: { type: 'boolean' },
      local: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  input.setEncoding('utf8');
  for await (const chunk of input) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}
