import type { MailboxState } from './store.js';

/*
 * Cursors are the same for every engine: `<mailbox tag>.<seq, base 36, zero-padded>`.
 * The tag (8 hex digits, random per mailbox) makes cursors of different mailboxes
 * distinct; the padding makes them sort as the sequence grows. Parsing is a pure function
 * of the mailbox's state, so checking a cursor never needs a store round trip of its own.
 */

const CURSOR_PATTERN = /^([0-9a-f]{8})\.([0-9a-z]{8,11})$/;

export function encodeCursor(tag: string, seq: number): string {
  return `${tag}.${seq.toString(36).padStart(8, '0')}`;
}

/**
 * The sequence number `cursor` stands for in this mailbox, or null when it is not one of
 * its cursors: another mailbox's, malformed, a non-canonical spelling, or beyond the head.
 * A cursor whose entry retention removed is still a valid position.
 */
export function cursorSeq(mailbox: MailboxState, cursor: string): number | null {
  const m = CURSOR_PATTERN.exec(cursor);
  if (!m || m[1] !== mailbox.tag) return null;
  const seq = Number.parseInt(m[2]!, 36);
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > mailbox.headSeq) return null;
  // Only the canonical spelling is a cursor (no aliases through extra zero-padding).
  return encodeCursor(mailbox.tag, seq) === cursor ? seq : null;
}
