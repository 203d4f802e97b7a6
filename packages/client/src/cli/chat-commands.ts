import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { terminalSafe as safe } from './terminal-text.js';

// The chat-feature commands (issue 10): read, edit, delete, react, block, unblock, blocked,
// receipts. Each write waits for the server's `ok` within --timeout; without it, it stays
// queued and goes out the next time pigeon connects (the client's write queue).

export async function read(ctx: CliContext, args: string[]): Promise<number> {
  const [peer, ...rest] = args;
  if (!peer) throw new CliError(ExitCode.usage, 'usage: pigeon read WITH [--upto CURSOR]');
  ctx.noMore(rest);
  const c = await ctx.online();
  // Without --upto: up to the newest entry of the conversation.
  const upto = ctx.values.upto ?? (await c.history(peer, { limit: 1 })).items.at(-1)?.cursor;
  if (upto === undefined) {
    ctx.out(`nothing to read with ${safe(peer)}`);
    return ExitCode.ok;
  }
  await ctx.confirmed(c.markRead(peer, upto), 'the read mark');
  ctx.out(`read with ${safe(peer)} up to ${safe(upto)}`);
  return ExitCode.ok;
}

export async function edit(ctx: CliContext, args: string[]): Promise<number> {
  const [ref, ...words] = args;
  if (!ref || words.length === 0) throw new CliError(ExitCode.usage, 'usage: pigeon edit ID TEXT');
  const c = await ctx.online();
  const target = ctx.ref(ref, c.user ?? '');
  await ctx.confirmed(c.edit(target, words.join(' ')), 'the edit');
  ctx.out(`edited ${safe(target.id)}`);
  return ExitCode.ok;
}

export async function remove(ctx: CliContext, args: string[]): Promise<number> {
  const [ref, ...rest] = args;
  ctx.noMore(rest);
  const c = await ctx.online();
  const target = ctx.ref(ref, c.user ?? '');
  const forMe = ctx.values['for-me'] === true;
  await ctx.confirmed(forMe ? c.hide(target) : c.deleteForEveryone(target), 'the deletion');
  ctx.out(`deleted ${safe(target.from)}/${safe(target.id)}${forMe ? ' for you' : ' for everyone'}`);
  return ExitCode.ok;
}

export async function react(ctx: CliContext, args: string[]): Promise<number> {
  const [ref, emoji, ...rest] = args;
  ctx.noMore(rest);
  const removing = ctx.values.remove === true;
  if (removing === (emoji !== undefined)) {
    throw new CliError(ExitCode.usage, 'usage: pigeon react FROM/ID EMOJI, or pigeon react FROM/ID --remove');
  }
  const c = await ctx.online();
  const target = ctx.ref(ref, c.user ?? '');
  await ctx.confirmed(c.react(target, emoji ?? null), 'the reaction');
  ctx.out(
    removing
      ? `reaction removed from ${safe(target.id)}`
      : `reacted ${safe(emoji ?? '')} to ${safe(target.id)}`,
  );
  return ExitCode.ok;
}

export async function block(ctx: CliContext, args: string[], blocking: boolean): Promise<number> {
  const [user, ...rest] = args;
  if (!user) throw new CliError(ExitCode.usage, `usage: pigeon ${blocking ? 'block' : 'unblock'} USER`);
  ctx.noMore(rest);
  const c = await ctx.online();
  await ctx.confirmed(blocking ? c.block(user) : c.unblock(user), blocking ? 'the block' : 'the unblock');
  ctx.out(`${blocking ? 'blocked' : 'unblocked'} ${safe(user.toLowerCase())}`);
  return ExitCode.ok;
}

export async function blocked(ctx: CliContext, args: string[]): Promise<number> {
  ctx.noMore(args);
  const c = await ctx.online();
  const { blocked: users } = await c.refreshSettings();
  for (const u of users ?? []) ctx.out(safe(u));
  return ExitCode.ok;
}

export async function receipts(ctx: CliContext, args: string[]): Promise<number> {
  const [value, ...rest] = args;
  ctx.noMore(rest);
  if (value !== undefined && value !== 'on' && value !== 'off') {
    throw new CliError(ExitCode.usage, 'usage: pigeon receipts [on|off]');
  }
  const c = await ctx.online();
  if (value !== undefined) await ctx.confirmed(c.setReadReceipts(value === 'on'), 'the setting');
  const { readReceipts } = await c.refreshSettings();
  ctx.out(`read receipts ${readReceipts ? 'on' : 'off'}`);
  return ExitCode.ok;
}
