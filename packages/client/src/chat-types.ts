import type { SearchItem, UpdateFrame, UpdateKind } from '@pigeon/protocol';

// Public types of the chat features (issue 10, PROTOCOL.md "Extensions"): writes, read
// state, settings, search. Framework-free like types.ts; add fields, never rename them.

/**
 * A change the user made that must reach the server even if the network is gone now: it is
 * stored with the outbox and sent, in order, once online (PROTOCOL.md "Writes and their
 * answers"). Every one is idempotent on the server, so resending after a lost answer is safe.
 */
export type WriteOp =
  | { t: 'edit'; from: string; id: string; body: string }
  | { t: 'delete'; from: string; id: string }
  | { t: 'hide'; from: string; id: string }
  | { t: 'react'; from: string; id: string; emoji: string | null }
  | { t: 'block'; user: string }
  | { t: 'unblock'; user: string }
  | { t: 'receipts'; on: boolean };

/** A write waiting for the server's `ok` (shown as "pending" by an app that wants to). */
export interface WriteItem {
  /** Unique; also the `rid` the write goes out with, every time it is (re)sent. */
  wid: string;
  op: WriteOp;
  /** When the app asked for it (client clock, ms since the epoch). */
  createdAt: number;
}

/** The outcome of a write the server refused: it is dropped from the queue. */
export interface WriteFailure {
  write: WriteItem;
  /** The server's code (`too_late`, `not_yours`, `no_such_message`, `message_deleted`, `limit_reached`, `no_such_user`, `bad_frame`) or `unsupported`. */
  code: string;
  message: string;
}

/** One conversation's read state, as the server reports it (`read` feature). */
export interface ReadState {
  /** Messages from the peer after my read mark (hidden ones excepted), counted on every device alike. */
  unread: number;
  /** My read mark's cursor in this conversation; null before anything was read. */
  readUpto: string | null;
  /** The newest of my entries the peer has read (their read receipt), when one arrived on this client. */
  seenUpto: string | null;
}

/** Per-peer read states; a conversation the client has not heard about yet is absent. */
export type ReadStates = Readonly<Record<string, ReadState>>;

/** The user's settings stored on the server; `null` while unknown (feature not enabled, not loaded yet). */
export interface ChatSettings {
  /** `read`: whether this user sends (and so sees) read receipts. */
  readReceipts: boolean | null;
  /** `block`: the users this user blocked, sorted. */
  blocked: readonly string[] | null;
}

export interface SearchOptions {
  /** Only the conversation with this user. */
  with?: string;
  /** Only matches older than this entry (the `msg.cursor` of the previous page's last item). */
  before?: string;
  /** 1..50, default 20. */
  limit?: number;
}

export interface SearchPage {
  /** Newest first; `highlights` are UTF-16 ranges of `msg.body`. */
  items: SearchItem[];
  /** Older matches exist: page on with `before: items.at(-1).msg.cursor`. */
  more: boolean;
}

/** One event per update kind, each typed with its own frame (narrowed `UpdateFrame`). */
export type UpdateEvents = {
  [K in UpdateKind]: (update: Extract<UpdateFrame, { kind: K }>) => void | Promise<void>;
};
