import type { ConversationItem, ErrorCode, MessageRef, MsgFrame, UpdateFrame } from '@pigeon/protocol';
import type { FeatureOp, FeatureReads, FeatureResult } from './feature-types.js';

/**
 * The durable side of Pigeon: accounts, token revocation, mailboxes, the delivered mark and
 * the (from, id) idempotency records. The relay and the connections only talk to this
 * interface, so SQLite (one process) and PostgreSQL (several nodes) are interchangeable;
 * every method is asynchronous because neither engine may make the event loop wait on a
 * disk or a network. `test/store-contract/` is the executable form of this contract.
 */
export interface Store extends FeatureReads {
  /**
   * True when `commit` may be called again before an earlier call resolved, the batches
   * still being applied in call order (SQLite: one writer thread). The relay then keeps a
   * few batches under way; otherwise it commits one batch at a time.
   */
  readonly pipelinesCommits?: boolean;
  /** Creates an account; false when the id is taken. `passwordHash` null = no password (legacy, JWT). */
  createUser(id: string, passwordHash: string | null): Promise<boolean>;
  /** The account, or null. */
  getUser(id: string): Promise<UserRecord | null>;
  /** Creates a passwordless account unless one exists. */
  ensureUser(id: string): Promise<void>;
  /**
   * Replaces the password hash and revokes every token issued so far (the token epoch
   * moves on). Resolves with the new epoch, or null when there is no such user.
   */
  setPassword(id: string, passwordHash: string): Promise<number | null>;
  /** "Sign out everywhere": moves the token epoch on. The new epoch, or null when there is no such user. */
  revokeAllTokens(id: string): Promise<number | null>;
  /**
   * Revokes one token by its id (the JWT `jti`) until `expiresAt` (ms since the epoch, the
   * token's own expiry): after that the token is dead anyway and the record is swept.
   */
  revokeToken(tokenId: string, expiresAt: number): Promise<void>;
  /** True when `revokeToken(tokenId, …)` was called and its record has not expired. */
  isTokenRevoked(tokenId: string): Promise<boolean>;
  /** The mailbox's positions, or null when the user does not exist. */
  mailbox(user: string): Promise<MailboxState | null>;
  /**
   * Runs one group commit: every op in order, in one transaction, resolving after the
   * commit is durable, or rejecting (storing nothing) when the store fails.
   *
   * Sends are checked in the spec's order: an existing (from, id) answers `duplicate`
   * with the original ts; a missing recipient `no_such_user`; only the sends that pass
   * both are handed to `admit` (once per batch, in op order), which answers a refusal
   * (`refused`, nothing stored) or null per send. `admit` may be asynchronous (a limiter
   * in Redis); when it rejects, the commit rejects. The same (from, id) again later in one
   * batch is not asked about: it is answered `duplicate` of the first when that is stored,
   * else as the first was. The caller refunds what it granted to a send that did not end
   * up `stored` (a failed commit; another node storing the same id in between).
   */
  commit(ops: readonly StoreOp[], admit: Admit): Promise<OpResult[]>;
  /** Entries of `user`'s mailbox with afterSeq < seq <= uptoSeq, oldest first, at most `limit`. */
  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]>;
  /** The newest `limit` entries with `peer` older than `beforeSeq` (null: newest), oldest first. */
  history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }>;
  /**
   * The oldest `limit` entries with `peer` newer than `afterSeq`, oldest first; `more` says
   * newer ones exist (paging forwards from a position: the first unread, a search hit).
   */
  historyAfter(
    user: string,
    peer: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }>;
  /**
   * One row per peer, newest first: a row's position is the seq of its newest entry
   * (`last.cursor`), and a page holds the `limit` newest rows whose position is below
   * `beforeSeq` (null: from the newest). `more` says an older row exists.
   */
  conversations(user: string, page: ConversationsPage): Promise<{ items: ConversationItem[]; more: boolean }>;
  /** Removes entries that retention allows to remove (and expired revocations); returns how many entries. */
  sweepRetention(now: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Decides the rate limit for the sends and feature writes of a batch that passed their
 * other checks, in op order (PROTOCOL.md: every write takes a token from the send bucket).
 */
export type Admit = (ops: readonly AdmitOp[]) => Promise<readonly (SendRefusal | null)[]>;

/** An op that takes a token of its user's send bucket. */
export type AdmitOp = SendOp | FeatureOp;

/** Whose bucket an op takes its token from. */
export function actorOf(op: AdmitOp): string {
  return op.kind === 'send' ? op.from : op.user;
}

export interface ConversationsPage {
  /** Rows per page, at least 1. */
  limit: number;
  /** Only rows whose newest entry has a seq below this; null = from the newest. */
  beforeSeq: number | null;
}

export interface UserRecord {
  id: string;
  passwordHash: string | null;
  /**
   * Tokens carry the epoch they were issued in; a token of an older epoch is revoked.
   * Starts at 0; `setPassword` and `revokeAllTokens` move it on.
   */
  tokenEpoch: number;
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

/**
 * One mailbox entry as the relay routes it: its owner, its position and its frame, a
 * message (with its state when read back: `read`, `edited`, …, projected per connection)
 * or an update (PROTOCOL.md "Updates").
 */
export interface Entry<F extends MsgFrame | UpdateFrame = MsgFrame | UpdateFrame> {
  owner: string;
  seq: number;
  frame: F;
  /** `encode(frame)` once a connection wrote it (shared by every connection of the mailbox). */
  text?: string;
}

/** A message entry (what a send appends). */
export type MsgEntry = Entry<MsgFrame>;

export interface SendOp {
  kind: 'send';
  from: string;
  id: string;
  to: string;
  body: string;
  /** `reply`: the message this one answers, in the sender's mailbox. */
  replyTo?: MessageRef;
  /** `files`: ids of the sender's complete uploads the message carries (1-10), in order. */
  files?: string[];
}

interface AckOp {
  kind: 'ack';
  user: string;
  seq: number;
}

export type StoreOp = SendOp | AckOp | FeatureOp;

export interface SendRefusal {
  code: typeof ErrorCode.rateLimited;
  retryAfterMs: number;
}

export type OpResult =
  | { kind: 'stored'; ts: number; entries: MsgEntry[] }
  | { kind: 'duplicate'; ts: number }
  | { kind: 'no_such_user' }
  | { kind: 'refused'; refusal: SendRefusal }
  /** An ack; `receipts` lists the messages it newly covers that others sent (one receipt each). */
  | { kind: 'acked'; changed: boolean; receipts: Receipt[] }
  /** Feature writes; `rejected` also answers a reply whose original is missing or deleted. */
  | FeatureResult;

export interface Receipt {
  /** Who sent the message (gets the receipt frame). */
  sender: string;
  id: string;
  /** Who acknowledged it. */
  to: string;
}
