import { encodeCursor } from './cursor.js';
import type { MailboxState, UserRecord } from './store.js';

/* A `users` row as both engines' drivers return it, and what the Store interface makes of it. */

export interface UserRow {
  id: string;
  password_hash: string | null;
  tag: string;
  head_seq: number;
  delivered_seq: number;
  removed_upto: number;
  token_epoch: number;
}

export function userRecord(row: Pick<UserRow, 'id' | 'password_hash' | 'token_epoch'>): UserRecord {
  return { id: row.id, passwordHash: row.password_hash, tokenEpoch: row.token_epoch };
}

export function mailboxState(
  user: string,
  row: Pick<UserRow, 'tag' | 'head_seq' | 'delivered_seq' | 'removed_upto'>,
): MailboxState {
  return {
    user,
    headSeq: row.head_seq,
    head: row.head_seq > 0 ? encodeCursor(row.tag, row.head_seq) : null,
    deliveredSeq: row.delivered_seq,
    removedUpto: row.removed_upto,
    tag: row.tag,
  };
}
