import type { ErrorCode, MessageRef, MsgFrame, Range, UpdateFrame, UpdateKind } from '@pigeon/protocol';
import type { Entry } from './store.js';

/*
 * The chat features of issue 10 as the store sees them (PROTOCOL.md "Updates" … "Search"):
 * the writes that change something and append update entries, and the reads the
 * connections need. Both engines implement them with the same semantics; the rules that
 * decide a write's answer live once, engine-agnostic, in feature-rules.ts, and
 * `test/store-contract/features*.ts` is their executable form.
 */

/** A write of a chat feature, by `user` (the one whose send bucket pays for it). */
export type FeatureOp =
  /** My read mark in the conversation with `with` moves to my entry `upto` (a seq of my mailbox). */
  | { kind: 'read'; user: string; with: string; upto: number }
  /** Sending (and seeing) read receipts on or off, for all my devices. */
  | { kind: 'receipts'; user: string; on: boolean }
  | { kind: 'edit'; user: string; ref: MessageRef; body: string }
  | { kind: 'delete'; user: string; ref: MessageRef }
  | { kind: 'hide'; user: string; ref: MessageRef }
  | { kind: 'react'; user: string; ref: MessageRef; emoji: string | null }
  | { kind: 'block'; user: string; target: string; blocked: boolean };

/** Why a feature write (or a reply) was refused, before the rate limit. */
export type FeatureRefusalCode =
  | typeof ErrorCode.noSuchUser
  | typeof ErrorCode.noSuchMessage
  | typeof ErrorCode.notYours
  | typeof ErrorCode.tooLate
  | typeof ErrorCode.messageDeleted
  | typeof ErrorCode.limitReached
  /** A send's `files` names one that is not a complete, unexpired upload of the sender (issue 12). */
  | typeof ErrorCode.noSuchFile;

/** A feature write's answer besides `refused` (the rate limit). */
export type FeatureResult =
  /** Stored; `entries` are the update entries it appended (to publish), in commit order. */
  | { kind: 'applied'; entries: UpdateEntry[]; block?: BlockChange }
  /** Nothing would change: answered `ok`, nothing appended, no token kept. */
  | { kind: 'unchanged' }
  | { kind: 'rejected'; code: FeatureRefusalCode };

/** A block or unblock that took effect, for the live parts (presence and typing of `target`). */
export interface BlockChange {
  blocker: string;
  target: string;
  blocked: boolean;
}

/** An update entry as the relay routes it. */
export type UpdateEntry = Entry<UpdateFrame>;

/** The settings of `settings` answers: what the features cover. */
export interface UserSettings {
  readReceipts: boolean;
  /** The users I blocked, sorted. */
  blocked: string[];
}

/** Who a user blocked and who blocked them: a connection's filter for presence and typing. */
export interface BlockRelations {
  blocked: string[];
  blockedBy: string[];
}

export interface SearchQuery {
  /** The raw query (`search.q`), already checked by the codec. */
  q: string;
  /** The conversation with this user only; null: every conversation. */
  with: string | null;
  /** Only entries older than this seq of the mailbox; null: from the newest. */
  beforeSeq: number | null;
  /** Results per page, 1..LIMITS.searchMaxLimit. */
  limit: number;
}

export interface SearchResult {
  items: { msg: MsgFrame; highlights: Range[] }[];
  /** Older matches exist. */
  more: boolean;
}

/** The store's reads for the chat features. */
export interface FeatureReads {
  /**
   * The newest entry at or below `uptoSeq` that a connection receiving the update `kinds`
   * would be sent: message entries that are not hidden, and updates of those kinds. 0 when
   * there is none (its `welcome.head` is then null).
   */
  viewHead(user: string, uptoSeq: number, kinds: readonly UpdateKind[]): Promise<number>;
  settings(user: string): Promise<UserSettings>;
  blockRelations(user: string): Promise<BlockRelations>;
  /** Messages of `user`'s mailbox matching the query, newest first, with their highlights. */
  search(user: string, query: SearchQuery): Promise<SearchResult>;
}
