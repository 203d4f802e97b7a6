import type { ConversationItem, FrameErrorCode, MsgFrame } from '@pigeon/protocol';

// Public types of @pigeon/client. Everything here is framework-free and has no DOM or Node
// types, so the same declarations serve the browser, Node and bots. Keep this file stable:
// add fields, never rename or remove them (apps/web builds on it).

// ---------------------------------------------------------------- injected platform parts

/**
 * The part of a WebSocket the client uses. Both the browser's `WebSocket` and the `ws`
 * package's satisfy it. Event handlers are attached internally through `onopen`,
 * `onmessage`, `onclose` and `onerror`, which both implementations provide.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: the browser's global `WebSocket`, or `ws`'s default export. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * Key-value persistence for the session, the outbox and the last processed cursor.
 * Methods may be synchronous or return promises. Values are JSON strings.
 */
export interface KeyValueStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** The part of `fetch` the client uses (register and login). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/**
 * Subscribes to "the network is back" notifications and returns an unsubscribe function.
 * The browser passes `(cb) => { addEventListener('online', cb); return () => removeEventListener('online', cb); }`.
 */
export type NetworkOnlineSource = (callback: () => void) => () => void;

// ---------------------------------------------------------------- options

export interface BackoffOptions {
  /** Upper bound of the first retry's delay (full jitter: the delay is uniform in [0, cap]). */
  baseMs: number;
  /** The cap never grows past this. */
  maxMs: number;
  /** Growth of the cap per failed attempt. */
  factor: number;
}

export interface ClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080` (`ws(s)://` is accepted too). */
  server: string;
  /** WebSocket constructor: `globalThis.WebSocket` in browsers, `ws` in Node. */
  WebSocket: WebSocketConstructor;
  /** Where the session, outbox and cursor live. Default: in memory (lost on restart). */
  storage?: KeyValueStorage;
  /** Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** "Network is back" events trigger an immediate reconnect attempt. Default: none. */
  onNetworkOnline?: NetworkOnlineSource;
  /** Prefix of every storage key. */
  storagePrefix?: string;
  backoff?: Partial<BackoffOptions>;
  /** A connection that stayed `online` this long resets the backoff attempt counter. */
  stableAfterMs?: number;
  /** Socket open + `welcome` must happen within this, else the attempt counts as failed. */
  connectTimeoutMs?: number;
  /** After this long without any frame from the server an application `ping` is sent. */
  pingIntervalMs?: number;
  /** ...and if nothing arrives within this much more, the connection is deemed dead (half-open). */
  pingTimeoutMs?: number;
  /** `history()` / `conversations()` reject with `timeout` after this; `login` / `register` with `unreachable`. */
  requestTimeoutMs?: number;
  /** Acks are sent at most this long after processing... */
  ackDelayMs?: number;
  /** ...or at once when this many entries are processed and not acked yet. */
  ackBatch?: number;
  /** `typing(to)` sends at most one frame per recipient per this interval. */
  typingThrottleMs?: number;
  /**
   * How many `send` frames may await their `sent` at once. 1 (the default) keeps a user's
   * messages strictly in order even when the server refuses one (`rate_limited`, `internal`):
   * with more in flight, a later message can be stored while an earlier one waits to be
   * resent. Raise it for bulk senders that value throughput over order.
   */
  maxInFlight?: number;
  /** Delay before resending after an `internal` error. */
  internalRetryMs?: number;
  /** Settled (sent/delivered) outbox items kept for the UI; older ones are dropped. */
  keepSettled?: number;
  /** How many (from,id) pairs and cursors are remembered for deduplication. */
  dedupWindow?: number;
  /**
   * When false the client ignores mailbox entries: no `message` events, no acks, the cursor
   * stays. For one-shot senders (`pigeon send`) that must not mark messages as seen that
   * nobody showed.
   */
  processInbox?: boolean;
  /** Random source in [0, 1) for jitter (tests inject a fixed one). */
  random?: () => number;
  /** Clock in ms since the epoch. */
  now?: () => number;
}

/** Every option's default, in one place. */
export const DEFAULTS = {
  storagePrefix: 'pigeon:',
  backoff: { baseMs: 500, maxMs: 30_000, factor: 2 } satisfies BackoffOptions,
  stableAfterMs: 10_000,
  connectTimeoutMs: 10_000,
  pingIntervalMs: 20_000,
  pingTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  ackDelayMs: 100,
  ackBatch: 100,
  typingThrottleMs: 3_000,
  maxInFlight: 1,
  internalRetryMs: 1_000,
  keepSettled: 200,
  dedupWindow: 5_000,
  processInbox: true,
} as const;

// ---------------------------------------------------------------- status

export type ClientState = 'connecting' | 'syncing' | 'online' | 'reconnecting' | 'offline' | 'unauthorized';

export interface ClientStatus {
  /**
   * - `offline`: not started, stopped, or stopped for good after close 4003 (`reason` says which)
   * - `connecting`: opening the socket / waiting for `welcome`
   * - `syncing`: `welcome` received, backlog being replayed until `synced`
   * - `online`: synced; sends and requests flow
   * - `reconnecting`: waiting until `nextAttemptAt` (ms since epoch) for the next attempt
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

/** A read-only observable value. `subscribe` does not call the listener at once. */
export interface Observable<T> {
  get(): T;
  subscribe(listener: (value: T) => void): () => void;
}

// ---------------------------------------------------------------- outbox

export type OutboxState = 'pending' | 'sent' | 'delivered' | 'failed';

/** Why a message failed: the server's code, or `bad_frame` / `too_large` found before sending. */
export type OutboxErrorCode = Extract<FrameErrorCode, 'bad_frame' | 'too_large' | 'no_such_user'>;

export interface OutboxItem {
  /** The message id (`crypto.randomUUID()`), also the `id` of its `msg` entries. */
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
}

// ---------------------------------------------------------------- session and requests

export interface Session {
  user: string;
  token: string;
}

export interface HistoryOptions {
  /** Cursor: only entries older than this. Default: the newest. */
  before?: string;
  /** 1..100, default 50. */
  limit?: number;
}

export interface HistoryPage {
  /** Oldest first. */
  items: MsgFrame[];
  /** Older entries exist (page on with `before: items[0].cursor`). */
  more: boolean;
}

// ---------------------------------------------------------------- events

export interface ClientEvents {
  /**
   * One mailbox entry (received or sent by this user, live or replayed), each exactly once,
   * in cursor order. The entry is acknowledged only after every listener returned (and, if a
   * listener returned a promise, after it settled), so a crash while processing replays it.
   */
  message: (message: MsgFrame) => void | Promise<void>;
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
  /** An `error` frame that concerns no send or request of this client (e.g. `internal`). */
  error: (error: { code: string; message: string }) => void;
}

export type ClientEventName = keyof ClientEvents;

// ---------------------------------------------------------------- the client

export interface PigeonClient {
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
  /** Stops and forgets the session; with `clearData`, also this user's outbox and cursor. */
  logout(options?: { clearData?: boolean }): Promise<void>;
  on<E extends ClientEventName>(event: E, listener: ClientEvents[E]): () => void;
  /** The outbox: unsettled messages and the most recent settled ones, oldest first. */
  outbox(): OutboxItem[];
  /**
   * Queues a message and returns it at once in state `pending` (or `failed` if invalid). The id
   * is `crypto.randomUUID()` unless `options.id` gives one (1-64 of `A-Z a-z 0-9 _ -`): resending
   * with the same id stores nothing twice, which makes scripted retries idempotent.
   */
  send(to: string, body: string, options?: { id?: string }): OutboxItem;
  /** Moves a `failed` message back to `pending`. */
  retry(id: string): void;
  /** Removes a message from the outbox (a pending one is not sent any more, unless already in flight). */
  discard(id: string): void;
  history(withUser: string, options?: HistoryOptions): Promise<HistoryPage>;
  conversations(): Promise<ConversationItem[]>;
  /** Tells `to` that this user is typing (throttled; dropped when not online). */
  typing(to: string): void;
  /** Replaces the presence subscription; re-sent after every reconnect. */
  subscribePresence(users: string[]): void;
  /** Resolves once `online` (rejects with `stopped` if stopped / unauthorized first). */
  whenOnline(): Promise<void>;
  /** Resolves once no message is `pending` (sent, delivered or failed) and storage is written. */
  flush(): Promise<void>;
  /** Resolves once received entries are processed and every state change (outbox, cursor) is in storage. */
  persisted(): Promise<void>;
}
