// What the host platform hands the client (a WebSocket, storage, fetch, an abort signal, the
// network's "online" event), typed structurally so the same declarations serve browsers, Node
// and bots without DOM or Node types. Public like types.ts: add members, never rename them.

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
 * Methods may be synchronous or return promises (IndexedDB, files). Values are strings (JSON).
 * A method that throws or rejects (a full quota, an I/O error) loses nothing: the client keeps
 * the state in memory, retries the write and reports `storage_failed`.
 */
export interface KeyValueStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
  /**
   * Optional atomic read-modify-write of one key: `fn` gets the stored value (null if none) and
   * returns the new one (null removes the key). `fn` is synchronous, so it fits in one IndexedDB
   * readwrite transaction or under a file lock. The client merges its outbox with what other
   * tabs or processes stored through it; without it the client does `get` then `set`, and a
   * writer in between can lose its change.
   */
  update?(key: string, fn: (current: string | null) => string | null): void | Promise<void>;
}

/** The part of the DOM's `AbortSignal` the client uses (typed structurally: no DOM types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
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
