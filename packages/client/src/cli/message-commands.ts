import { ErrorCode } from '@pigeon/protocol';
import type { OutboxItem, SendOptions } from '../types.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { attachmentsFrom, progressPrinter } from './file-commands.js';
import { formatMessage, formatSearchItem, formatUpdate, PLAIN_MARKS, TTY_MARKS } from './format.js';
import { terminalSafeJson as json, terminalSafe as safe } from './terminal-text.js';
import { connect, waitSettled } from './waits.js';

// Commands about messages: send, listen, history, conversations, search.

function describeOutboxFailure(item: OutboxItem): CliError {
  const code = item.error ?? ErrorCode.badFrame;
  const text =
    code === ErrorCode.noSuchUser
      ? `no such user: ${safe(item.to)}`
      : `message refused (${code}): ${safe(item.errorMessage ?? '')}`;
  return new CliError(exitCodeFor(code), text);
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  input.setEncoding('utf8');
  for await (const chunk of input) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

export async function send(ctx: CliContext, args: string[]): Promise<number> {
  const [to, ...words] = args;
  const paths = ctx.values.file ?? [];
  if (!to || (words.length === 0 && paths.length === 0)) {
    throw new CliError(ExitCode.usage, 'usage: pigeon send TO TEXT [--file PATH]...');
  }
  // TEXT "-" reads the body from stdin (one trailing newline dropped), for multi-line bodies.
  const body = words.length === 1 && words[0] === '-' ? await readAll(ctx.io.stdin) : words.join(' ');
  const files = await attachmentsFrom(paths);
  const c = await ctx.online();
  const options: SendOptions = {};
  if (ctx.values.id !== undefined) options.id = ctx.values.id;
  if (ctx.values['reply-to'] !== undefined) options.replyTo = ctx.ref(ctx.values['reply-to'], c.user ?? '');
  if (files.length > 0) options.files = files;
  const offProgress = c.on(
    'upload',
    progressPrinter(
      ctx,
      files.map((f) => f.name),
    ),
  );
  const item = c.send(to, body, options);
  // --timeout bounds silence, not the whole upload: every byte that goes out restarts it.
  const settled = await waitSettled(c, item.id, ctx.timeoutMs, (reset) => c.on('upload', reset));
  offProgress();
  if (!settled) {
    c.discard(item.id);
    throw new CliError(
      ExitCode.unreachable,
      `server unreachable: no confirmation for message ${item.id} within ${ctx.timeoutMs} ms (it may have been stored; resend with --id ${item.id} to avoid a duplicate)`,
    );
  }
  if (settled.state === 'failed') throw describeOutboxFailure(settled);
  ctx.out(`sent ${safe(settled.id)} at ${new Date(settled.ts ?? Date.now()).toISOString()}`);
  return ExitCode.ok;
}

export async function listen(ctx: CliContext, args: string[]): Promise<number> {
  ctx.noMore(args);
  const c = await ctx.session(true);
  const asJson = ctx.values.json === true;
  const markRead = ctx.values['mark-read'] === true;
  c.on('message', (m) => {
    ctx.out(asJson ? json(m) : formatMessage(m));
    // Printed on this terminal = on screen: with --mark-read, a message from the peer is read.
    if (markRead && m.from !== c.user) {
      c.markRead(m.from, m.cursor).catch((err: unknown) => {
        ctx.err(`pigeon: could not mark read: ${safe(err instanceof Error ? err.message : String(err))}`);
      });
    }
  });
  c.on('update', (u) => ctx.out(asJson ? json(u) : formatUpdate(u)));
  if (asJson) c.on('receipt', (r) => ctx.out(json({ t: 'receipt', ...r })));
  c.on('gap', () => ctx.err('note: older messages were removed by retention before they were seen'));
  c.on('writeFailed', (f) =>
    ctx.err(`pigeon: the server refused a queued ${f.write.op.t} (${safe(f.code)})`),
  );
  await connect(c, ctx.timeoutMs);
  ctx.err(`listening as ${c.user} (Ctrl-C to stop)`);
  return await new Promise<number>((resolve) => {
    const offStatus = c.status.subscribe((s) => {
      if (s.state === 'reconnecting' && s.nextAttemptAt !== undefined) {
        ctx.err(
          `connection lost (${safe(s.reason ?? '?')}); retrying in ${Math.max(0, s.nextAttemptAt - Date.now())} ms`,
        );
      } else if (s.state === 'online') {
        ctx.err('reconnected');
      } else if (s.state === 'unauthorized') {
        ctx.err('pigeon: the session was refused: run `pigeon login` again');
        finish(ExitCode.badCredentials);
      }
    });
    const offSignal = ctx.io.onInterrupt(() => finish(ExitCode.ok));
    function finish(code: number) {
      offStatus();
      offSignal();
      resolve(code);
    }
  });
}

export async function history(ctx: CliContext, args: string[]): Promise<number> {
  const [peer, ...rest] = args;
  if (!peer || rest.length > 0) throw new CliError(ExitCode.usage, 'usage: pigeon history WITH');
  const { values } = ctx;
  const limit = ctx.limit();
  const c = await ctx.online();
  const page = await c.history(peer, {
    ...(limit === undefined ? {} : { limit }),
    ...(values.before === undefined ? {} : { before: values.before }),
  });
  for (const m of page.items) ctx.out(values.json ? json(m) : formatMessage(m));
  if (page.more && !values.json)
    ctx.err(`(older messages exist: --before ${safe(page.items[0]?.cursor ?? '')})`);
  return ExitCode.ok;
}

export async function conversations(ctx: CliContext, args: string[]): Promise<number> {
  ctx.noMore(args);
  const c = await ctx.online();
  for (const row of await c.conversations()) {
    if (ctx.values.json) {
      ctx.out(json(row));
      continue;
    }
    const unread = row.unread ? ` (${row.unread} unread)` : '';
    ctx.out(`${safe(row.with)}${unread}\t${formatMessage(row.last).split('\n')[0]}`);
  }
  return ExitCode.ok;
}

export async function search(ctx: CliContext, args: string[]): Promise<number> {
  if (args.length === 0) throw new CliError(ExitCode.usage, 'usage: pigeon search WORDS [--with USER]');
  const { values } = ctx;
  const limit = ctx.limit();
  const c = await ctx.online();
  const page = await c.search(args.join(' '), {
    ...(values.with === undefined ? {} : { with: values.with }),
    ...(values.before === undefined ? {} : { before: values.before }),
    ...(limit === undefined ? {} : { limit }),
  });
  const marks = ctx.io.stdout.isTTY ? TTY_MARKS : PLAIN_MARKS;
  for (const item of page.items) ctx.out(values.json ? json(item) : formatSearchItem(item, marks));
  if (page.items.length === 0 && !values.json) ctx.err('no message matches');
  if (page.more && !values.json) {
    ctx.err(`(older matches exist: --before ${safe(page.items.at(-1)?.msg.cursor ?? '')})`);
  }
  return ExitCode.ok;
}
