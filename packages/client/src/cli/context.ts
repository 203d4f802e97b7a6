import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isMessageId, type MessageRef, parseUserId } from '@pigeon/protocol';
import { createNodeClient } from '../node/create-node-client.js';
import { fileStorage } from '../node/file-storage.js';
import { CLIENT_FEATURES } from '../options.js';
import type { KeyValueStorage } from '../platform-types.js';
import type { PigeonClient } from '../types.js';
import { CliError } from './cli-error.js';
import { configPath, legacyStateFile, readConfig, stateDir } from './config-file.js';
import { ExitCode } from './exit-codes.js';
import type { promptHidden } from './prompt.js';
import { terminalSafe as safe } from './terminal-text.js';
import { connect } from './waits.js';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Parameters<typeof promptHidden>[1];
  env: Record<string, string | undefined>;
  /** Calls back on SIGINT/SIGTERM; returns an unsubscribe function. */
  onInterrupt(callback: () => void): () => void;
}

export function parseCli(argv: string[]) {
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
      upto: { type: 'string' },
      with: { type: 'string' },
      'reply-to': { type: 'string' },
      'for-me': { type: 'boolean' },
      remove: { type: 'boolean' },
      'mark-read': { type: 'boolean' },
      file: { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export type CliValues = ReturnType<typeof parseCli>['values'];

export function line(stream: Writable, text: string): void {
  stream.write(`${text}\n`);
}

/** What every command gets: the io, the options, and the signed-in client (made once, closed at exit). */
export class CliContext {
  readonly cfgPath: string;
  readonly state: KeyValueStorage;
  /** The client a command made, stopped and persisted when the command ends. */
  client: PigeonClient | null = null;

  constructor(
    readonly io: CliIo,
    readonly values: CliValues,
    readonly timeoutMs: number,
  ) {
    this.cfgPath = configPath(io.env);
    this.state = fileStorage(stateDir(this.cfgPath), { legacyFile: legacyStateFile(this.cfgPath) });
  }

  out(text: string): void {
    line(this.io.stdout, text);
  }

  err(text: string): void {
    line(this.io.stderr, text);
  }

  /**
   * A client with the saved session and every chat feature (the CLI shows them all). Only
   * `listen` processes (and acks) the inbox; the other commands leave it for the next listen.
   */
  async session(processInbox = false): Promise<PigeonClient> {
    const cfg = readConfig(this.cfgPath);
    if (!cfg) {
      throw new CliError(
        ExitCode.notLoggedIn,
        `not logged in (no session in ${this.cfgPath}): run \`pigeon login\``,
      );
    }
    const c = createNodeClient({
      server: cfg.server,
      storage: this.state,
      processInbox,
      requestTimeoutMs: this.timeoutMs,
      features: CLIENT_FEATURES,
    });
    await c.useToken(cfg.user, cfg.token);
    this.client = c;
    return c;
  }

  /** The session, connected (online), or a CliError within --timeout. */
  async online(processInbox = false): Promise<PigeonClient> {
    const c = await this.session(processInbox);
    await connect(c, this.timeoutMs);
    return c;
  }

  /**
   * Waits for a queued write's `ok`. Without one within --timeout the write stays queued in
   * the state directory and goes out the next time any `pigeon` command connects.
   */
  async confirmed(write: Promise<void>, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              ExitCode.unreachable,
              `${what} not confirmed within ${this.timeoutMs} ms; it stays queued and goes out the next time pigeon connects`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([write, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `ID` (a message of mine) or `FROM/ID`. */
  ref(text: string | undefined, me: string): MessageRef {
    if (!text) throw new CliError(ExitCode.usage, 'a message is named ID (yours) or FROM/ID');
    const slash = text.indexOf('/');
    const from = slash < 0 ? me : parseUserId(text.slice(0, slash));
    const id = slash < 0 ? text : text.slice(slash + 1);
    if (!from || !isMessageId(id)) {
      throw new CliError(
        ExitCode.usage,
        `not a message: ${safe(text)} (use ID for yours, FROM/ID for others')`,
      );
    }
    return { from, id };
  }

  /** Rejects extra positional arguments. */
  noMore(args: readonly string[]): void {
    if (args.length > 0) throw new CliError(ExitCode.usage, `unexpected argument: ${safe(args[0] ?? '')}`);
  }

  limit(): number | undefined {
    const { limit } = this.values;
    return limit === undefined ? undefined : Number(limit);
  }
}
