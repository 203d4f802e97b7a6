import type { Feature } from '@pigeon/protocol';
import type { AttachmentStore, HttpTransport } from './file-types.js';
import type {
  FetchLike,
  KeyValueStorage,
  NetworkOnlineSource,
  WebSocketConstructor,
} from './platform-types.js';
import { globalFetch } from './runtime.js';
import { memoryAttachments, memoryStorage } from './storage.js';
import { fetchTransport } from './transports.js';

// Every option of `createClient`, its default (DEFAULTS) and its resolution, in one place.

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
  /**
   * `files`: where attachments wait until uploaded (the web app: IndexedDB, so a reload loses
   * nothing). Default: in memory.
   */
  attachments?: AttachmentStore;
  /**
   * HTTP for uploads and downloads. Default `fetchTransport()` (upload progress only per chunk);
   * browsers: `xhrTransport(XMLHttpRequest)`; Node: `nodeHttpTransport()`.
   */
  transport?: HttpTransport;
  /** Bytes per upload request (a failure costs at most this much again). */
  uploadChunkBytes?: number;
  /** An upload or download request that makes no progress this long is given up (and resumed). */
  uploadStallMs?: number;
  /** "Network is back" events trigger an immediate attempt (same as `setNetwork(true)`). Default: none. */
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
  /**
   * The same two, while a `send` awaits its `sent`: a dead link is then noticed within
   * `busyPingIntervalMs + busyPingTimeoutMs` instead of half a minute, so the message goes
   * out on a new connection quickly.
   */
  busyPingIntervalMs?: number;
  busyPingTimeoutMs?: number;
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
  /**
   * `read`: at most one read mark per conversation goes out per this interval (the spec asks
   * for about one a second); a newer mark replaces an unsent older one meanwhile.
   */
  readIntervalMs?: number;
  /** Settled (sent/delivered) outbox items kept for the UI; older ones are dropped. */
  keepSettled?: number;
  /** How many (from,id) pairs and cursors are remembered for deduplication. */
  dedupWindow?: number;
  /**
   * A `message` listener that throws leaves its entry unacknowledged (it is delivered again on
   * the next connection). After this many failures of the same entry it counts as processed,
   * so one entry the application can never handle does not hold back every ack after it.
   */
  maxListenerFailures?: number;
  /** First delay before retrying a failed storage write (doubles per failure, up to `backoff.maxMs`). */
  storageRetryMs?: number;
  /**
   * When false the client ignores mailbox entries: no `message` events, no acks, the cursor
   * stays. For one-shot senders (`pigeon send`) that must not mark messages as seen that
   * nobody showed.
   */
  processInbox?: boolean;
  /**
   * Protocol extensions to ask for in `hello.features` (PROTOCOL.md "Extensions"). Empty: the
   * connection is exactly version 1 (a bot that only reads and writes text). Every name of
   * `CLIENT_FEATURES` is implemented here; what the server enabled is `client.features`.
   */
  features?: readonly ClientFeature[];
  /** Random source in [0, 1) for jitter (tests inject a fixed one). */
  random?: () => number;
  /** Clock in ms since the epoch. */
  now?: () => number;
}

/**
 * The protocol extensions this client implements and may negotiate: asking for one means the
 * application gets its frames (updates of its kinds, fields on messages) and its calls work.
 */
export const CLIENT_FEATURES = [
  'paging',
  'read',
  'edit',
  'reply',
  'react',
  'block',
  'search',
  'files',
] as const satisfies readonly Feature[];
export type ClientFeature = (typeof CLIENT_FEATURES)[number];

/** Whether the application asked for `feature` (a client never sends frames of a feature it did not ask for). */
export function asks(o: { features: readonly ClientFeature[] }, feature: Feature): boolean {
  return o.features.some((f) => f === feature);
}

/** Every option's default, in one place. */
export const DEFAULTS = {
  storagePrefix: 'pigeon:',
  backoff: { baseMs: 500, maxMs: 30_000, factor: 2 } satisfies BackoffOptions,
  stableAfterMs: 10_000,
  connectTimeoutMs: 10_000,
  pingIntervalMs: 20_000,
  pingTimeoutMs: 10_000,
  busyPingIntervalMs: 1_000,
  busyPingTimeoutMs: 1_000,
  requestTimeoutMs: 15_000,
  ackDelayMs: 100,
  ackBatch: 100,
  typingThrottleMs: 3_000,
  maxInFlight: 1,
  internalRetryMs: 1_000,
  readIntervalMs: 1_000,
  uploadChunkBytes: 1_048_576,
  uploadStallMs: 60_000,
  keepSettled: 200,
  dedupWindow: 5_000,
  maxListenerFailures: 3,
  storageRetryMs: 1_000,
  processInbox: true,
  features: [] as readonly ClientFeature[],
} as const;

export type ResolvedOptions = Required<Omit<ClientOptions, 'fetch' | 'onNetworkOnline' | 'backoff'>> & {
  backoff: BackoffOptions;
  fetch: FetchLike | undefined;
  onNetworkOnline: NetworkOnlineSource | undefined;
};

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  return {
    server: options.server,
    WebSocket: options.WebSocket,
    storage: options.storage ?? memoryStorage(),
    fetch: options.fetch ?? globalFetch(),
    attachments: options.attachments ?? memoryAttachments(),
    transport: options.transport ?? fetchTransport(),
    uploadChunkBytes: options.uploadChunkBytes ?? DEFAULTS.uploadChunkBytes,
    uploadStallMs: options.uploadStallMs ?? DEFAULTS.uploadStallMs,
    onNetworkOnline: options.onNetworkOnline,
    storagePrefix: options.storagePrefix ?? DEFAULTS.storagePrefix,
    backoff: { ...DEFAULTS.backoff, ...options.backoff },
    stableAfterMs: options.stableAfterMs ?? DEFAULTS.stableAfterMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs,
    busyPingIntervalMs: options.busyPingIntervalMs ?? DEFAULTS.busyPingIntervalMs,
    busyPingTimeoutMs: options.busyPingTimeoutMs ?? DEFAULTS.busyPingTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    ackDelayMs: options.ackDelayMs ?? DEFAULTS.ackDelayMs,
    ackBatch: options.ackBatch ?? DEFAULTS.ackBatch,
    typingThrottleMs: options.typingThrottleMs ?? DEFAULTS.typingThrottleMs,
    maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
    internalRetryMs: options.internalRetryMs ?? DEFAULTS.internalRetryMs,
    readIntervalMs: options.readIntervalMs ?? DEFAULTS.readIntervalMs,
    keepSettled: options.keepSettled ?? DEFAULTS.keepSettled,
    dedupWindow: options.dedupWindow ?? DEFAULTS.dedupWindow,
    maxListenerFailures: options.maxListenerFailures ?? DEFAULTS.maxListenerFailures,
    storageRetryMs: options.storageRetryMs ?? DEFAULTS.storageRetryMs,
    processInbox: options.processInbox ?? DEFAULTS.processInbox,
    features: options.features ?? DEFAULTS.features,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}
