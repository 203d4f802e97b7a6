import type {
  ConversationItem,
  ErrorCode,
  Feature,
  MessageRef,
  MsgFrame,
  UpdateFrame,
} from '@pigeon/protocol';
import type { ChatClient, UpdateEvents, WriteFailure } from './chat-types.js';
import type {
  AttachmentInput,
  DownloadOptions,
  DownloadResult,
  OutboxFile,
  UploadErrorCode,
  UploadProgress,
} from './file-types.js';
import type { Observable } from './observable.js';
import type { AbortSignalLike } from './platform-types.js';

// Public types of @pigeon/client. Everything here is framework-free and has no DOM or Node
// types, so the same declarations serve the browser, Node and bots. Keep this file stable:
// add fields, never rename or remove them (apps/web builds on it).
// About 300 lines: `PigeonClient` and what its calls take and give, documented in one place;
// the platform parts are in platform-types.ts, the chat members in chat-types.ts (`ChatClient`).

// ---------------------------------------------------------------- status

export type ClientState =
  | 'connecting'
  | 'syncing'
  | 'online'
  | 'reconnecting'
  | 'waiting_for_network'
  | 'offline'
  | 'unauthorized';

export interface ClientStatus {
  /**
   * - `offline`: not started, stopped, or stopped for good after close 4003 (`reason` says which)
   * - `connecting`: opening the socket / waiting for `welcome`
   * - `syncing`: `welcome` received, backlog being replayed until `synced`
   * - `online`: synced; sends and requests flow
   * - `reconnecting`: waiting until `nextAttemptAt` (ms since epoch) for the next attempt
   * - `waiting_for_network`: the application said the network is gone (`setNetwork(false)`);
   *   no attempt until it says it is back (or `reconnectNow()`)
   * - `unauthorized`: the token was refused (close 4001); log in again
   */
  state: ClientState;
  /** With `reconnecting`: when the next attempt starts (ms since the epoch). */
  nextAttemptAt?: number;
  /** Consecutive failed attempts so far (0 once a connection stayed up). */
  attempt?: number;
  /** Why the client is offline/unauthorized/reconnecting: `not_started`, `stopped`, `unsupported_version`, `closed_<code>` (4000: the client gave up on a silent connection), ... */
  reason?: string;
}

// ---------------------------------------------------------------- outbox

export type OutboxState = 'pending' | 'sent' | 'delivered' | 'failed';

/**
 * Why a message failed: the server's code, or `bad_frame` / `too_large` found before sending.
 * `no_such_message` / `message_deleted`: the message it replies to is not in the conversation,
 * or was deleted for everyone. `no_such_file` and `UploadErrorCode`: its attachments.
 */
export type OutboxErrorCode =
  | typeof ErrorCode.badFrame
  | typeof ErrorCode.tooLarge
  | typeof ErrorCode.noSuchUser
  | typeof ErrorCode.noSuchMessage
  | typeof ErrorCode.messageDeleted
  | typeof ErrorCode.noSuchFile
  | UploadErrorCode;

export interface OutboxItem {
  /** The message id (random, UUID v4 format, from `crypto.getRandomValues`), also the `id` of its `msg` entries. */
  id: string;
  /** Recipient (lowercased). */
  to: string;
  body: string;
  state: OutboxState;
  /** When `send()` was called (client clock, ms since the epoch). */
  createdAt: number;
  /** The server's storing time, from `sent` (equals the `msg.ts` of its entries). */
  ts?: number;
  /** With `failed`: the error code. */
  error?: OutboxErrorCode;
  /** With `failed`: the server's (or the client's) explanation. */
  errorMessage?: string;
  /** `reply`: the message this one answers. */
  replyTo?: MessageRef;
  /**
   * `files`: the attachments, uploaded before the message is sent (`body` is then the
   * caption, possibly empty). While one has no `file` yet, the item is uploading.
   */
  files?: OutboxFile[];
}

export interface SendOptions {
  /** A caller-chosen message id (1-64 of `A-Z a-z 0-9 _ -`): resending with it never duplicates. */
  id?: string;
  /** `reply`: the message this one answers, in the same conversation (mine or the peer's). */
  replyTo?: MessageRef;
  /** `files`: 1-10 attachments, uploaded first; the text is then a caption and may be empty. */
  files?: AttachmentInput[];
}

// ---------------------------------------------------------------- session and requests

export interface Session {
  user: string;
  token: string;
}

export interface HistoryOptions {
  /** Cursor: only entries older than this. Default: the newest. */
  before?: string;
  /**
   * `paging`: the oldest `limit` entries newer than this cursor, oldest first (open a
   * conversation at its first unread message or at a search result; `more`: newer exist).
   * Not together with `before`.
   */
  after?: string;
  /** 1..100, default 50. */
  limit?: number;
}

export interface ConversationsOptions {
  /** Rows per page, 1..100 (`paging` only; default 50). */
  limit?: number;
  /** Rows whose `last` is older than this cursor: the `last.cursor` of the previous page's last row. */
  before?: string;
}

export interface ConversationsPage {
  /** Newest first. */
  items: ConversationItem[];
  /** Older rows exist (page on with `before: items.at(-1).last.cursor`). */
  more: boolean;
}

export interface HistoryPage {
  /** Oldest first. */
  items: MsgFrame[];
  /**
   * Older entries exist (page on with `before: items[0].cursor`); for a page asked with
   * `after`: newer entries exist (page on with `after: items.at(-1).cursor`).
   */
  more: boolean;
}

export interface LogoutOptions {
  /** Also remove this user's stored outbox and cursor (default: kept for their next sign-in). */
  clearData?: boolean;
  /**
   * Revoke on the server first: `session` this device's token (`POST /api/logout`),
   * `everywhere` every token of the user (`/api/logout-all`). If that fails for any reason but
   * an already dead token (401), nothing is signed out and the `PigeonHttpError` is thrown
   * (offer "sign out on this device only" = `logout()` without `revoke`).
   */
  revoke?: 'session' | 'everywhere';
}

// ---------------------------------------------------------------- events

export interface ClientEvents extends UpdateEvents {
  /**
   * One mailbox entry (received or sent by this user, live or replayed), each exactly once,
   * in cursor order. The entry is acknowledged only after every listener returned (and, if a
   * listener returned a promise, after it settled), so a crash while processing replays it.
   * A listener that throws (or rejects) leaves the entry unacknowledged: it is reported on
   * `error` (`listener`), later entries still arrive, and the next connection delivers it again
   * (up to `maxListenerFailures` times; then it counts as processed: `listener_gave_up`).
   */
  message: (message: MsgFrame) => void | Promise<void>;
  /**
   * One update entry (with features: a read mark, an edit, a reaction...), in the same cursor
   * order as messages and acknowledged the same way (a listener that throws leaves it unacked).
   * The same update is then also emitted under its kind (`read`, `seen`, `settings`, `edit`,
   * `delete`, `hide`, `react`, `block`), typed with its own fields.
   */
  update: (update: UpdateFrame) => void | Promise<void>;
  /** `files`: bytes of an attachment on their way to the server (per file of an outbox item). */
  upload: (progress: UploadProgress) => void;
  /** A queued write (edit, delete, react, block...) was refused by the server; it left the queue. */
  writeFailed: (failure: WriteFailure) => void;
  /** The outbox changed; the argument is the whole outbox, oldest first. */
  outbox: (items: OutboxItem[]) => void;
  /** A message this user sent was acknowledged by a device of `to`. */
  receipt: (receipt: { id: string; to: string }) => void;
  typing: (typing: { from: string }) => void;
  presence: (presence: { user: string; online: boolean }) => void;
  /** Entries were lost to retention (or the saved cursor is unknown): reload history. */
  gap: (info: { head: string | null }) => void;
  /** The backlog is replayed; `online` follows. */
  synced: (info: { head: string | null; gap: boolean }) => void;
  /** The token was refused (close 4001). The client stops; log in again. */
  unauthorized: () => void;
  /** The status changed (same as `status.subscribe`). */
  status: (status: ClientStatus) => void;
  /**
   * Something went wrong that concerns no call of the application: an `error` frame about
   * nothing of ours (e.g. `internal`), `storage_failed` (a write failed; retried), `listener`,
   * `listener_gave_up`, `bad_server_frame`.
   */
  error: (error: { code: string; message: string }) => void;
}

export type ClientEventName = keyof ClientEvents;

// ---------------------------------------------------------------- the client

export interface PigeonClient extends ChatClient {
  /** The current session's user, or null. */
  readonly user: string | null;
  readonly status: Observable<ClientStatus>;
  /** Creates the account, keeps and persists the session. Throws `PigeonHttpError`. */
  register(user: string, password: string): Promise<Session>;
  /** Logs in, keeps and persists the session. Throws `PigeonHttpError`. */
  login(user: string, password: string): Promise<Session>;
  /** Uses a token obtained elsewhere (e.g. a host application's JWT) and persists it. */
  useToken(user: string, token: string): Promise<void>;
  /** Loads the persisted session, if any (e.g. after a page reload). */
  restore(): Promise<Session | null>;
  /** Connects (and keeps reconnecting) with the current session. */
  start(): Promise<void>;
  /** Closes the connection and stops reconnecting. The outbox and cursor stay persisted. */
  stop(): void;
  /**
   * Stops and forgets the session. The outbox stays stored for this user (sent at their next
   * sign-in on this storage, never as another user); `clearData` removes it and the cursor too.
   * Rejects with `storage_failed` (and keeps the session) when the outbox cannot be saved.
   */
  logout(options?: LogoutOptions): Promise<void>;
  /**
   * Changes the password (`POST /api/password`). Every older token of the user stops working
   * (other devices are signed out); this device goes on with the fresh token the answer
   * carries. Throws `PigeonHttpError`: 403 `bad_credentials` (wrong current password), 400
   * `weak_password`, 401 `unauthorized`, 429 `rate_limited`, `unreachable`.
   */
  changePassword(password: string, newPassword: string): Promise<void>;
  /** What the server enabled on the current connection (`welcome.features`); empty for version 1. */
  readonly features: Observable<readonly Feature[]>;
  /** How many outbox items are `pending` (will go out by themselves once online). */
  readonly pendingCount: Observable<number>;
  /**
   * What the platform knows about the network (browsers: `navigator.onLine` and the
   * `online`/`offline` events). `false` drops the connection at once (status
   * `waiting_for_network`, no attempts); `true` attempts at once.
   */
  setNetwork(online: boolean): void;
  /** A "Retry now" button: attempts at once instead of waiting out the backoff. */
  reconnectNow(): void;
  /** Milliseconds until the next attempt while `reconnecting`, else null. */
  nextAttemptIn(): number | null;
  on<E extends ClientEventName>(event: E, listener: ClientEvents[E]): () => void;
  /** The outbox: unsettled messages and the most recent settled ones, oldest first. */
  outbox(): OutboxItem[];
  /**
   * Queues a message and returns it at once in state `pending` (or `failed` if invalid). The id
   * is random (`crypto.getRandomValues`, works on plain-http origins) unless `options.id` gives one (1-64 of `A-Z a-z 0-9 _ -`): resending
   * with the same id stores nothing twice, which makes scripted retries idempotent.
   */
  send(to: string, body: string, options?: SendOptions): OutboxItem;
  /**
   * Downloads a file (`GET /api/files/ID` with the session token; no connection needed): the
   * bytes are collected in `chunks` or handed to `onChunk`; `offset` resumes (Range). Throws
   * `PigeonHttpError` (`not_found` for a file that is not yours to see, `unauthorized`,
   * `unreachable`, `aborted`).
   */
  download(fileId: string, options?: DownloadOptions): Promise<DownloadResult>;
  /** Moves a `failed` message back to `pending`. */
  retry(id: string): void;
  /** Removes a message from the outbox (a pending one is not sent any more, unless already in flight). */
  discard(id: string): void;
  /** A page of the conversation; `after` needs `paging` (else it rejects `unsupported`). */
  history(withUser: string, options?: HistoryOptions): Promise<HistoryPage>;
  /** Every conversation row, newest first (with `paging`: fetched page by page). */
  conversations(): Promise<ConversationItem[]>;
  /**
   * One page of conversation rows (`paging` negotiated). Without `paging` it answers the
   * version-1 list with `more: false`, and a `before` rejects with `unsupported`.
   */
  conversationsPage(options?: ConversationsOptions): Promise<ConversationsPage>;
  /**
   * A round trip to the server (waits for `online`); resolves with the time it took in ms.
   * When it resolves, every entry that arrived before the answer has been handed to the
   * `message` listeners: a fence for "nothing else arrives" without sleeping.
   */
  ping(): Promise<number>;
  /** Tells `to` that this user is typing (throttled; dropped when not online). */
  typing(to: string): void;
  /** Replaces the presence subscription; re-sent after every reconnect. */
  subscribePresence(users: string[]): void;
  /** Resolves once `online` (rejects with `stopped` if stopped / unauthorized first). */
  whenOnline(): Promise<void>;
  /**
   * Resolves once no message is `pending` (sent, delivered or failed) and storage is written
   * (rejects `storage_failed` if it cannot be); rejects `aborted` when `signal` aborts first.
   */
  flush(options?: { signal?: AbortSignalLike }): Promise<void>;
  /**
   * Resolves once received entries are processed and every state change (outbox, cursor) is in
   * storage; rejects with `storage_failed` while a write fails (it keeps being retried).
   */
  persisted(): Promise<void>;
}
