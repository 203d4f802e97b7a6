import { fileLine, type MsgFrame, type Range, type SearchItem, type UpdateFrame } from '@pigeon/protocol';
import { terminalSafe as safe } from './terminal-text.js';

// How the CLI prints what the server sends, one entry per line (plus indented detail lines).
// Every piece of server text goes through terminalSafe, so no message can forge a line or
// command the terminal: a continuation line always starts with two spaces, a message line
// with its ISO time.

function time(ts: number): string {
  return new Date(ts).toISOString();
}

/** How search hits are marked: bold on a terminal, `**…**` in a pipe or file. */
export interface Marks {
  open: string;
  close: string;
}
export const PLAIN_MARKS: Marks = { open: '**', close: '**' };
export const TTY_MARKS: Marks = { open: '\u001b[1m', close: '\u001b[22m' };

/** The body with the highlighted ranges marked; each piece escaped on its own. */
export function highlight(body: string, ranges: readonly Range[], marks: Marks): string {
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    if (start < at || end > body.length || start > end) continue; // never trust offsets blindly
    out += `${safe(body.slice(at, start))}${marks.open}${safe(body.slice(start, end))}${marks.close}`;
    at = end;
  }
  return out + safe(body.slice(at));
}

/**
 * One message: `TIME FROM -> TO [ID]: BODY (edited)`, then one indented line each for the
 * quote it replies to, its attachments and its reactions.
 */
export function formatMessage(m: MsgFrame, body = safe(m.body)): string {
  const shown = m.deleted ? '(deleted)' : `${body}${m.edited !== undefined ? ' (edited)' : ''}`;
  const lines = [`${time(m.ts)} ${safe(m.from)} -> ${safe(m.to)} [${safe(m.id)}]: ${shown}`];
  const q = m.replyTo;
  if (q) {
    const quoted = q.deleted ? '(deleted)' : q.body !== undefined ? safe(q.body) : '(no longer available)';
    lines.push(`  > reply to ${safe(q.from)} [${safe(q.id)}]: ${quoted}`);
  }
  for (const f of m.files ?? []) lines.push(`  ${safe(fileLine(f))} [file ${safe(f.id)}]`);
  if (m.reactions && m.reactions.length > 0) {
    lines.push(`  reactions: ${m.reactions.map((r) => `${safe(r.emoji)} ${safe(r.by)}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** One update as `TIME * WHAT` (the star tells it from a message line). */
export function formatUpdate(u: UpdateFrame): string {
  const at = `${time(u.ts)} *`;
  switch (u.kind) {
    case 'read':
      return `${at} read with ${safe(u.with)} up to ${safe(u.upto)} (${u.unread} unread)`;
    case 'seen':
      return `${at} ${safe(u.with)} read your messages up to ${safe(u.upto)}`;
    case 'settings':
      return `${at} read receipts ${u.readReceipts ? 'on' : 'off'}`;
    case 'edit':
      return `${at} ${safe(u.from)} edited [${safe(u.id)}]: ${safe(u.body)}`;
    case 'delete':
      return `${at} ${safe(u.from)} deleted [${safe(u.id)}]`;
    case 'hide':
      return `${at} hidden: ${safe(u.from)} [${safe(u.id)}]`;
    case 'react':
      return u.emoji === null
        ? `${at} ${safe(u.by)} removed their reaction to ${safe(u.from)} [${safe(u.id)}]`
        : `${at} ${safe(u.by)} reacted ${safe(u.emoji)} to ${safe(u.from)} [${safe(u.id)}]`;
    case 'block':
      return `${at} ${u.blocked ? 'blocked' : 'unblocked'} ${safe(u.user)}`;
  }
}

export function formatSearchItem(item: SearchItem, marks: Marks): string {
  return formatMessage(item.msg, highlight(item.msg.body, item.highlights, marks));
}
