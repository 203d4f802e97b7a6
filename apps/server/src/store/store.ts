import type { ConversationItem, MsgFrame } from '@pigeon/protocol';

/**
 * The durable side of Pigeon: accounts, mailboxes, the delivered mark and the (from, id)
 * idempotency records. The relay logic only talks to this interface, so a Redis-backed
 * store can replace the SQLite one. Every method may be asynchronous.
 */
export interface Store {
  /** Creates an account; false when the id is taken. `passwordHash` null = no password (legacy, JWT). */
  createUser(id: string, passwordHash: string | null): Promise<boolean>;
  /** The account, or null. */
  getUser(id: string): Promise<UserRecord | null>;
  /** Creates a passwordless account unless one exists. */
  ensureUser(id: string): Promise<void>;
  /** The mailbox's positions, or null when the user does not exist. */
  mailbox(user: string): Promise<MailboxState | null>;
  /**
   * Runs one group commit: every op in order, in one transaction. For a send the checks
   * run in the spec's order: an existing (from, id) answers `duplicate` with the original
   * ts; a missing recipient `no_such_user`; then `admit(op)` (the rate limit) may refuse;
   * else both entries and the idempotency record are appended. Resolves after the commit
   * is durable; rejects (storing nothing) when the store fails.
   */
  commit(ops: readonly StoreOp[], admit: (op: SendOp) => SendRefusal | null): Promise<OpResult[]>;
  /** Entries of `user`'s mailbox with afterSeq < seq <= uptoSeq, oldest first, at most `limit`. */
  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]>;
  /** The newest `limit` entries with `peer` older than `beforeSeq` (null: newest), oldest first. */
  history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }>;
  /** One row per peer, newest conversation first. */
  conversations(user: string): Promise<ConversationItem[]>;
  /**
   * The sequence number a cursor stands for in `user`'s mailbox, or null when it is not a
   * cursor of that mailbox (another mailbox's, malformed, or beyond the head).
   */
  cursorSeq(mailbox: MailboxState, cursor: string): number | null;
  /** Removes entries that retention allows to remove; returns how many. */
  sweepRetention(now: number): Promise<number>;
  close(): Promise<void>;
}

export interface UserRecord {
  id: string;
  passwordHash: string | null;
}

export interface MailboxState {
  user: string;
  /** Sequence of the newest entry; 0 = empty. */
  headSeq: number;
  /** The cursor of the newest entry, null when empty. */
  head: string | null;
  /** The delivered mark (sequence); 0 = nothing acknowledged. */
  deliveredSeq: number;
  /** Entries with seq <= removedUpto were removed by retention. */
  removedUpto: number;
  /** Opaque per-mailbox tag that makes cursors of different mailboxes distinct. */
  tag: string;
}

/** One mailbox entry as the relay routes it: its owner, its position and its frame. */
export interface Entry {
  owner: string;
  seq: number;
  frame: MsgFrame;
  /** `encode(frame)` once a connection wrote it (shared by every connection of the mailbox). */
  text?: string;
}

export interface SendOp {
  kind: 'send';
  from: string;
  id: string;
  to: string;
  body: string;
}

export interface AckOp {
  kind: 'ack';
  user: string;
  seq: number;
}

export type StoreOp = SendOp | AckOp;

export interface SendRefusal {
  code: 'rate_limited';
  retryAfterMs: number;
}

export type OpResult =
  | { kind: 'stored'; ts: number; entries: Entry[] }
  | { kind: 'duplicate'; ts: number }
  | { kind: 'no_such_user' }
  | { kind: 'refused'; refusal: SendRefusal }
  /** An ack; `receipts` lists the messages it newly covers that others sent (one receipt each). */
  | { kind: 'acked'; changed: boolean; receipts: Receipt[] };

export interface Receipt {
  /** Who sent the message (gets the receipt frame). */
  sender: string;
  id: string;
  /** Who acknowledged it. */
  to: string;
}
