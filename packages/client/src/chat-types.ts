import type { MessageRef, SearchItem, UpdateFrame, UpdateKind } from '@pigeon/protocol';
import type { Observable } from './observable.js';

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

/**
 * The chat features of `PigeonClient` (issue 10). Each needs its feature in `options.features`
 * (else it rejects `unsupported` at once) and enabled by the server when it goes out (else it
 * fails `unsupported`). Writes are queued durably with the outbox and sent in order once
 * online; each promise resolves once the server stored the change (`ok`) and rejects with the
 * server's code when it refused it.
 */
export interface ChatClient {
  /** Per conversation: unread count, my read mark, the peer's receipt (`read`). Seeded by `conversations()`. */
  readonly readStates: Observable<ReadStates>;
  /** `readReceipts` (`read`) and `blocked` (`block`), loaded after every `synced`, kept current by updates. */
  readonly settings: Observable<ChatSettings>;
  /** Writes waiting for the server's `ok`, oldest first (read marks are not listed). */
  readonly pendingWrites: Observable<readonly WriteItem[]>;
  /**
   * `read`: the messages with `peer` up to my entry `upto` were on screen. Marks only move
   * forward; one per conversation is sent at most every `readIntervalMs`, a newer call replacing
   * an unsent older one (its promise then resolves with the newer one).
   */
  markRead(peer: string, upto: string): Promise<void>;
  /** `edit`: new text for my message (within 15 minutes of its `ts`); a message still in the outbox is changed there. */
  edit(ref: MessageRef, body: string): Promise<void>;
  /** `edit`: delete my message for everyone (same window); one still in the outbox is simply not sent. */
  deleteForEveryone(ref: MessageRef): Promise<void>;
  /** `edit`: delete for me (hide on all my devices); mine or the peer's. */
  hide(ref: MessageRef): Promise<void>;
  /** `react`: my reaction to a message (one per person), `null` removes it. */
  react(ref: MessageRef, emoji: string | null): Promise<void>;
  /** `block`: nothing `user` sends reaches me any more (they are not told). */
  block(user: string): Promise<void>;
  unblock(user: string): Promise<void>;
  /** `read`: send (and so see) read receipts or not, for all my devices. */
  setReadReceipts(on: boolean): Promise<void>;
  /** Asks the server for the settings now (`read` / `block`); `settings` is updated too. */
  refreshSettings(): Promise<ChatSettings>;
  /** `search`: my messages matching `q`, newest first (in one conversation with `with`). */
  search(q: string, options?: SearchOptions): Promise<SearchPage>;
}
