import {
  type ClientFrame,
  CloseCode,
  type ConversationItem,
  decodeServerFrame,
  type ErrorFrame,
  encode,
  type HistoryFrame,
  isMessageId,
  LIMITS,
  type MsgFrame,
  parseUserId,
  type ServerFrame,
} from '@pigeon/protocol';
import { AckBatcher } from './ack-batcher.js';
import { nextDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { authenticate, isServerUrl, wsUrl } from './http.js';
import { observable } from './observable.js';
import { Outbox, parseStoredOutbox } from './outbox.js';
import { clearTimer, globalFetch, randomId, setTimer, type TimerHandle } from './runtime.js';
import { SeenSet } from './seen-set.js';
import { memoryStorage } from './storage.js';
import {
  type BackoffOptions,
  type ClientEventName,
  type ClientEvents,
  type ClientOptions,
  type ClientStatus,
  DEFAULTS,
  type FetchLike,
  type HistoryOptions,
  type HistoryPage,
  type KeyValueStorage,
  type OutboxItem,
  type PigeonClient,
  type Session,
  type WebSocketLike,
} from './types.js';

/** The handler properties both the browser's WebSocket and `ws` provide. */
interface SocketWithHandlers extends WebSocketLike {
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  /** `ws` only: drops the TCP connection without a closing handshake (for half-open sockets). */
  terminate?: () => void;
}

const OPEN = 1;
/** Close code this client uses when it gives up on a silent (half-open) connection. */
const CLIENT_TIMEOUT_CLOSE = 4000;

type Resolved = Required<Omit<ClientOptions, 'storage' | 'fetch' | 'onNetworkOnline' | 'backoff'>> & {
  backoff: BackoffOptions;
  storage: KeyValueStorage;
  fetch: FetchLike | undefined;
  onNetworkOnline: ClientOptions['onNetworkOnline'];
};

interface Connection {
  readonly ws: SocketWithHandlers;
  welcomed: boolean;
  online: boolean;
  onlineSince: number;
  connectTimer: TimerHandle;
  watchdog: TimerHandle;
  /** Runs while sends await their answer; no answer within requestTimeoutMs drops the connection. */
  sendTimer: TimerHandle;
  acks: AckBatcher;
  dead: boolean;
}

interface PendingRequest {
  frame: ClientFrame & { rid: string };
  resolve: (frame: ServerFrame) => void;
  reject: (error: PigeonRequestError) => void;
  timer: TimerHandle;
  sentOn: Connection | null;
}

function resolveOptions(options: ClientOptions): Resolved {
  return {
    server: options.server,
    WebSocket: options.WebSocket,
    storage: options.storage ?? memoryStorage(),
    fetch: options.fetch ?? globalFetch(),
    onNetworkOnline: options.onNetworkOnline,
    storagePrefix: options.storagePrefix ?? DEFAULTS.storagePrefix,
    backoff: { ...DEFAULTS.backoff, ...options.backoff },
    stableAfterMs: options.stableAfterMs ?? DEFAULTS.stableAfterMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    ackDelayMs: options.ackDelayMs ?? DEFAULTS.ackDelayMs,
    ackBatch: options.ackBatch ?? DEFAULTS.ackBatch,
    typingThrottleMs: options.typingThrottleMs ?? DEFAULTS.typingThrottleMs,
    maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
    internalRetryMs: options.internalRetryMs ?? DEFAULTS.internalRetryMs,
    keepSettled: options.keepSettled ?? DEFAULTS.keepSettled,
    dedupWindow: options.dedupWindow ?? DEFAULTS.dedupWindow,
    processInbox: options.processInbox ?? DEFAULTS.processInbox,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class Client implements PigeonClient {
  private readonly o: Resolved;
  private readonly events = new Emitter<ClientEvents>();
  private readonly statusValue = observable<ClientStatus>({ state: 'offline', reason: 'not_started' });
  readonly status = this.statusValue;

  private session: Session | null = null;
  private readonly box: Outbox;
  /** Resolves once this user's outbox and cursor are read from storage. */
  private loaded: Promise<void> = Promise.resolve();
  /** The last cursor the application processed: the next `hello.since`. */
  private cursor: string | null = null;
  private seenCursors: SeenSet;
  private seenIds: SeenSet;

  private running = false;
  private conn: Connection | null = null;
  private attempt = 0;
  private reconnectTimer: TimerHandle = null;
  private unsubscribeNetwork: (() => void) | null = null;
  private sendPausedUntil = 0;
  private pauseTimer: TimerHandle = null;

  /** Frames become application events one at a time, in arrival order (listeners may be async). */
  private inbound: Promise<void> = Promise.resolve();

  private ridSeq = 0;
  private readonly requests = new Map<string, PendingRequest>();
  private presenceUsers: string[] = [];
  private readonly typingSentAt = new Map<string, number>();

  private readonly dirtyKeys = new Set<'outbox' | 'cursor'>();
  private persisting: Promise<void> | null = null;

  constructor(options: ClientOptions) {
    if (!isServerUrl(options.server)) {
      throw new PigeonRequestError(
        ClientErrorCode.invalidArgument,
        `server must be an http(s):// or ws(s):// URL`,
      );
    }
    if (typeof options.WebSocket !== 'function') {
      throw new PigeonRequestError(
        ClientErrorCode.invalidArgument,
        'options.WebSocket must be a WebSocket constructor',
      );
    }
    this.o = resolveOptions(options);
    this.box = new Outbox(this.o.keepSettled, this.o.maxInFlight);
    this.seenCursors = new SeenSet(this.o.dedupWindow);
    this.seenIds = new SeenSet(this.o.dedupWindow);
    this.status.subscribe((s) => {
      for (const fn of this.events.listenersOf('status')) fn(s);
    });
  }

  get user(): string | null {
    return this.session?.user ?? null;
  }

  // ------------------------------------------------------------------ session

  private key(name: string): string {
    return `${this.o.storagePrefix}${name}`;
  }

  private userKey(user: string, name: 'outbox' | 'cursor'): string {
    return this.key(`u:${user}:${name}`);
  }

  private fetchOrThrow(): FetchLike {
    if (!this.o.fetch)
      throw new PigeonRequestError(ClientErrorCode.invalidArgument, 'no fetch available: pass options.fetch');
    return this.o.fetch;
  }

  register(user: string, password: string): Promise<Session> {
    return this.signIn('register', user, password);
  }

  login(user: string, password: string): Promise<Session> {
    return this.signIn('login', user, password);
  }

  private async signIn(kind: 'register' | 'login', user: string, password: string): Promise<Session> {
    const fetchFn = this.fetchOrThrow();
    const session = await authenticate(fetchFn, this.o.server, kind, user, password, this.o.requestTimeoutMs);
    await this.setSession(session);
    return session;
  }

  async useToken(user: string, token: string): Promise<void> {
    const id = parseUserId(user);
    if (!id) throw new PigeonRequestError(ClientErrorCode.invalidArgument, `not a user id: ${user}`);
    await this.setSession({ user: id, token });
  }

  async restore(): Promise<Session | null> {
    const text = await this.o.storage.get(this.key('session'));
    if (!text) return null;
    try {
      const value = JSON.parse(text) as Partial<Session> & { server?: string };
      if (typeof value.user !== 'string' || typeof value.token !== 'string') return null;
      // A session belongs to the server that issued it.
      if (value.server !== undefined && value.server !== this.o.server) return null;
      await this.setSession({ user: value.user, token: value.token }, false);
      return { ...this.session! };
    } catch {
      return null;
    }
  }

  private async setSession(session: Session, persist = true): Promise<void> {
    const switching = this.session !== null && this.session.user !== session.user;
    if (switching) {
      this.stop();
      // The previous user's pending writes go to the previous user's keys, then nothing is dirty.
      await this.persisted();
      this.dirtyKeys.clear();
      this.resetUserState();
    }
    const sameUser = this.session?.user === session.user;
    this.session = { ...session };
    if (persist) {
      await this.o.storage.set(this.key('session'), JSON.stringify({ ...session, server: this.o.server }));
    }
    if (!sameUser) {
      this.loaded = this.loadUserState(session.user);
      await this.loaded;
    }
  }

  private resetUserState(): void {
    this.box.clear();
    this.cursor = null;
    this.seenCursors = new SeenSet(this.o.dedupWindow);
    this.seenIds = new SeenSet(this.o.dedupWindow);
    this.presenceUsers = [];
    this.typingSentAt.clear();
  }

  private async loadUserState(user: string): Promise<void> {
    const [outboxText, cursorText] = await Promise.all([
      this.o.storage.get(this.userKey(user, 'outbox')),
      this.o.storage.get(this.userKey(user, 'cursor')),
    ]);
    if (this.session?.user !== user) return;
    this.box.load(parseStoredOutbox(outboxText));
    if (this.cursor === null && typeof cursorText === 'string' && cursorText.length > 0)
      this.cursor = cursorText;
    this.emitOutbox();
    this.pumpOutbox();
  }

  async logout(options: { clearData?: boolean } = {}): Promise<void> {
    const user = this.session?.user;
    this.stop();
    await this.persisted();
    await this.o.storage.remove(this.key('session'));
    if (user && options.clearData) {
      await this.o.storage.remove(this.userKey(user, 'outbox'));
      await this.o.storage.remove(this.userKey(user, 'cursor'));
    }
    this.session = null;
    this.resetUserState();
    this.emitOutbox();
  }

  // ------------------------------------------------------------------ persistence

  /** Coalesces writes: each key is written with its latest value, one write at a time. */
  private persist(key: 'outbox' | 'cursor'): void {
    this.dirtyKeys.add(key);
    if (this.persisting) return;
    this.persisting = (async () => {
      try {
        // Never write this user's outbox before the stored one was read and merged.
        await this.loaded;
        while (this.dirtyKeys.size > 0 && this.session) {
          const keys = [...this.dirtyKeys];
          this.dirtyKeys.clear();
          const user = this.session.user;
          for (const k of keys) {
            if (k === 'outbox') {
              const key = this.userKey(user, 'outbox');
              const stored = parseStoredOutbox(await this.o.storage.get(key));
              if (this.session?.user !== user) break;
              await this.o.storage.set(key, JSON.stringify(this.box.forStorage(stored)));
            } else if (this.cursor !== null) {
              await this.o.storage.set(this.userKey(user, 'cursor'), this.cursor);
            }
          }
        }
      } catch (err) {
        this.emitError('storage', `could not persist client state: ${describe(err)}`);
      } finally {
        this.persisting = null;
      }
    })();
  }

  /**
   * Resolves once the entries received so far are processed and every change is written to
   * storage (processing an entry after its connection closed persists the cursor again).
   */
  async persisted(): Promise<void> {
    await this.inbound;
    await this.written();
  }

  /** Resolves once the writes queued so far are done. */
  private async written(): Promise<void> {
    while (this.persisting) await this.persisting;
  }

  // ------------------------------------------------------------------ events

  on<E extends ClientEventName>(event: E, listener: ClientEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  private emit<E extends Exclude<ClientEventName, 'message'>>(
    event: E,
    ...args: Parameters<ClientEvents[E]>
  ): void {
    for (const fn of this.events.listenersOf(event)) {
      try {
        (fn as (...a: Parameters<ClientEvents[E]>) => void)(...args);
      } catch (err) {
        if (event !== 'error') this.emitError('listener', `a ${event} listener threw: ${describe(err)}`);
      }
    }
  }

  private emitError(code: string, message: string): void {
    this.emit('error', { code, message });
  }

  private emitOutbox(): void {
    this.emit('outbox', this.box.list());
  }

  private setStatus(status: ClientStatus): void {
    this.statusValue.set(status);
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (!this.session) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    if (this.running) return;
    this.running = true;
    if (!this.unsubscribeNetwork && this.o.onNetworkOnline) {
      this.unsubscribeNetwork = this.o.onNetworkOnline(() => this.networkBack());
    }
    await this.loaded;
    if (!this.running || this.conn || this.reconnectTimer !== null) return;
    this.connect();
  }

  stop(): void {
    const wasActive = this.running || this.conn !== null;
    this.running = false;
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    clearTimer(this.pauseTimer);
    this.pauseTimer = null;
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = null;
    const conn = this.conn;
    if (conn) {
      // Acks of what was processed go out before the socket closes.
      conn.acks.flush();
      this.dropConnection(conn, 'stopped');
      conn.ws.close(1000, 'client stopped');
    }
    for (const [rid, req] of this.requests) {
      clearTimer(req.timer);
      this.requests.delete(rid);
      req.reject(new PigeonRequestError(ClientErrorCode.stopped, 'the client was stopped'));
    }
    if (wasActive || this.status.get().state !== 'unauthorized')
      this.setStatus({ state: 'offline', reason: 'stopped' });
  }

  /** "Network is back": waiting out a backoff, or an attempt begun on the dead network, retries now. */
  private networkBack(): void {
    if (!this.running) return;
    const conn = this.conn;
    if (conn && !conn.welcomed) {
      this.dropConnection(conn, 'network changed');
      if (conn.ws.terminate) conn.ws.terminate();
      else conn.ws.close(1000, 'network changed');
      this.connect();
      return;
    }
    if (this.reconnectTimer !== null) {
      clearTimer(this.reconnectTimer);
      this.reconnectTimer = null;
      this.connect();
    }
  }

  private connect(): void {
    if (!this.session || !this.running) return;
    this.reconnectTimer = null;
    this.setStatus({ state: 'connecting', attempt: this.attempt });
    let ws: SocketWithHandlers;
    try {
      ws = new this.o.WebSocket(wsUrl(this.o.server)) as SocketWithHandlers;
    } catch (err) {
      this.scheduleReconnect(`cannot open socket: ${describe(err)}`, false);
      return;
    }
    const conn: Connection = {
      ws,
      welcomed: false,
      online: false,
      onlineSince: 0,
      connectTimer: null,
      watchdog: null,
      sendTimer: null,
      dead: false,
      acks: new AckBatcher((cursor) => this.flushAck(conn, cursor), this.o.ackDelayMs, this.o.ackBatch),
    };
    this.conn = conn;
    conn.connectTimer = setTimer(() => this.abandon(conn, 'connect_timeout'), this.o.connectTimeoutMs);
    ws.onopen = () => {
      if (conn.dead || !this.session) return;
      const hello: ClientFrame = { t: 'hello', v: 1, token: this.session.token };
      if (this.cursor !== null) hello.since = this.cursor;
      this.write(conn, hello);
    };
    ws.onmessage = (event) => {
      if (!conn.dead) this.onFrame(conn, event.data);
    };
    ws.onclose = (event) => {
      if (!conn.dead) this.onClose(conn, event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event follows every error; reconnecting is decided there.
    };
  }

  private write(conn: Connection, frame: ClientFrame): boolean {
    if (conn.dead || conn.ws.readyState !== OPEN) return false;
    try {
      conn.ws.send(encode(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Gives up on a connection that is silent (half-open) or never got going, and reconnects. */
  private abandon(conn: Connection, reason: string): void {
    if (conn.dead) return;
    if (conn.ws.terminate) conn.ws.terminate();
    else conn.ws.close(CLIENT_TIMEOUT_CLOSE, reason);
    this.onClose(conn, CLIENT_TIMEOUT_CLOSE, reason);
  }

  /** Forgets a connection: its timers, its in-flight sends and requests. */
  private dropConnection(conn: Connection, reason: string): void {
    if (conn.dead) return;
    // Persist what was processed even though its ack can no longer be sent.
    conn.acks.flush();
    conn.dead = true;
    clearTimer(conn.connectTimer);
    clearTimer(conn.watchdog);
    clearTimer(conn.sendTimer);
    if (this.conn === conn) this.conn = null;
    this.box.resetInFlight();
    for (const [rid, req] of this.requests) {
      if (req.sentOn === conn) {
        clearTimer(req.timer);
        this.requests.delete(rid);
        req.reject(new PigeonRequestError(ClientErrorCode.disconnected, `connection lost (${reason})`));
      }
    }
  }

  private onClose(conn: Connection, code: number, reason: string): void {
    const stayedUp = conn.online && this.o.now() - conn.onlineSince >= this.o.stableAfterMs;
    this.dropConnection(conn, `close ${code}`);
    if (!this.running) return;
    if (code === CloseCode.unauthorized) {
      this.running = false;
      this.unsubscribeNetwork?.();
      this.unsubscribeNetwork = null;
      this.setStatus({ state: 'unauthorized', reason: reason || 'token refused' });
      this.rejectUnsent(ClientErrorCode.stopped, 'unauthorized');
      this.emit('unauthorized');
      return;
    }
    if (code === CloseCode.unsupportedVersion) {
      this.running = false;
      this.unsubscribeNetwork?.();
      this.unsubscribeNetwork = null;
      this.setStatus({ state: 'offline', reason: 'unsupported_version' });
      this.rejectUnsent(ClientErrorCode.stopped, 'unsupported protocol version');
      return;
    }
    this.scheduleReconnect(`closed_${code}`, stayedUp);
  }

  private rejectUnsent(code: string, message: string): void {
    for (const [rid, req] of this.requests) {
      clearTimer(req.timer);
      this.requests.delete(rid);
      req.reject(new PigeonRequestError(code, message));
    }
  }

  private scheduleReconnect(reason: string, stayedUp: boolean): void {
    if (stayedUp) this.attempt = 0;
    const delay = nextDelay(this.attempt, this.o.backoff, this.o.random);
    this.attempt++;
    const nextAttemptAt = this.o.now() + delay;
    this.setStatus({ state: 'reconnecting', nextAttemptAt, attempt: this.attempt, reason });
    clearTimer(this.reconnectTimer);
    this.reconnectTimer = setTimer(() => this.connect(), delay);
  }

  /** Any frame proves the connection alive; after `pingIntervalMs` of silence ask with a ping. */
  private armWatchdog(conn: Connection): void {
    clearTimer(conn.watchdog);
    conn.watchdog = setTimer(() => {
      if (conn.dead) return;
      this.write(conn, { t: 'ping', rid: `p${++this.ridSeq}` });
      conn.watchdog = setTimer(() => this.abandon(conn, 'ping_timeout'), this.o.pingTimeoutMs);
    }, this.o.pingIntervalMs);
  }

  // ------------------------------------------------------------------ inbound frames

  private onFrame(conn: Connection, data: unknown): void {
    this.armWatchdog(conn);
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      this.emitError('bad_server_frame', decoded.error.message);
      return;
    }
    const frame = decoded.frame;
    switch (frame.t) {
      case 'welcome':
        clearTimer(conn.connectTimer);
        if (this.session && frame.user !== this.session.user) {
          // The token belongs to someone else (e.g. a host app's JWT with another `sub`): this
          // user's outbox must not go out under that name.
          conn.ws.close(1000, 'token of another user');
          this.onClose(conn, CloseCode.unauthorized, `token is for ${frame.user}, not ${this.session.user}`);
          return;
        }
        conn.welcomed = true;
        this.setStatus({ state: 'syncing', attempt: this.attempt });
        return;
      case 'msg':
        if (this.o.processInbox) this.enqueue(() => this.processMsg(conn, frame));
        else if (this.session && frame.from === this.session.user)
          this.applyOwnEntry(frame.id, frame.ts, frame.delivered);
        return;
      case 'synced':
        this.enqueue(() => this.onSynced(conn, frame.head, frame.gap));
        return;
      case 'sent':
        if (this.box.markSent(frame.id, frame.ts)) this.outboxChanged();
        this.armSendTimer(conn);
        this.pumpOutbox();
        return;
      case 'receipt':
        this.enqueue(() => {
          if (this.box.markDelivered(frame.id)) this.outboxChanged();
          this.emit('receipt', { id: frame.id, to: frame.to });
        });
        return;
      case 'typing':
        this.emit('typing', { from: frame.from });
        return;
      case 'presence':
        this.emit('presence', { user: frame.user, online: frame.online });
        return;
      case 'history':
      case 'conversations':
      case 'pong':
        if (frame.rid !== undefined) this.settleRequest(frame.rid, frame);
        return;
      case 'error':
        this.onErrorFrame(frame);
        return;
    }
  }

  private enqueue(task: () => void | Promise<void>): void {
    this.inbound = this.inbound.then(task).catch((err) => this.emitError('internal', describe(err)));
  }

  private async processMsg(conn: Connection, m: MsgFrame): Promise<void> {
    const idKey = `${m.from}\n${m.id}`;
    // A cursor seen before is a replay only if it names the same message: after a server's
    // database was reset, cursors restart and an old cursor string can name a new entry,
    // which must not be dropped.
    const duplicate = this.seenIds.has(idKey) || this.seenCursors.get(m.cursor) === idKey;
    if (!duplicate) {
      this.seenCursors.add(m.cursor, idKey);
      this.seenIds.add(idKey);
      if (this.session && m.from === this.session.user) this.applyOwnEntry(m.id, m.ts, m.delivered);
      for (const fn of this.events.listenersOf('message')) {
        try {
          await fn(m);
        } catch (err) {
          this.emitError('listener', `a message listener threw: ${describe(err)}`);
        }
      }
    }
    this.cursor = m.cursor;
    if (!conn.dead) conn.acks.processed(m.cursor);
    else this.persist('cursor');
  }

  /** An entry of our own proves the message stored (and maybe delivered). */
  private applyOwnEntry(id: string, ts: number, delivered: boolean): void {
    const changed = delivered ? this.box.markDelivered(id, ts) : this.box.markSent(id, ts);
    if (changed) {
      this.outboxChanged();
      this.pumpOutbox();
    }
  }

  private flushAck(conn: Connection, cursor: string): void {
    this.persist('cursor');
    this.write(conn, { t: 'ack', cursor });
  }

  private onSynced(conn: Connection, head: string | null, gap: boolean): void {
    if (conn.dead) return;
    conn.online = true;
    conn.onlineSince = this.o.now();
    this.setStatus({ state: 'online' });
    this.emit('synced', { head, gap });
    if (gap) this.emit('gap', { head });
    if (this.presenceUsers.length > 0) this.write(conn, { t: 'presence', users: this.presenceUsers });
    for (const req of this.requests.values()) {
      if (req.sentOn === null && this.write(conn, req.frame)) req.sentOn = conn;
    }
    this.pumpOutbox();
  }

  private onErrorFrame(frame: ErrorFrame): void {
    if (frame.rid !== undefined && this.requests.has(frame.rid)) {
      this.settleRequest(frame.rid, frame);
      return;
    }
    if (frame.id !== undefined) {
      const action = this.box.onError(frame.id, frame.code, frame.message, frame.retryAfterMs);
      if (this.conn) this.armSendTimer(this.conn);
      if (action.kind === 'failed') {
        this.outboxChanged();
      } else if (action.kind === 'pause') {
        const ms = action.code === 'rate_limited' ? (action.retryAfterMs ?? 1000) : this.o.internalRetryMs;
        this.pauseSending(ms);
      }
      this.pumpOutbox();
      return;
    }
    this.emit('error', { code: frame.code, message: frame.message });
  }

  // ------------------------------------------------------------------ outbox

  private outboxChanged(): void {
    this.persist('outbox');
    this.emitOutbox();
  }

  private pauseSending(ms: number): void {
    const until = this.o.now() + ms;
    if (this.pauseTimer !== null && until <= this.sendPausedUntil) return;
    this.sendPausedUntil = until;
    clearTimer(this.pauseTimer);
    this.pauseTimer = setTimer(() => {
      this.pauseTimer = null;
      this.pumpOutbox();
    }, ms);
  }

  /** Sends pending messages, in order, while the connection is online and sending is not paused. */
  private pumpOutbox(): void {
    const conn = this.conn;
    if (!conn?.online || conn.dead) return;
    // The pause timer alone decides: comparing clocks could refuse when the timer fires a
    // millisecond "early" by Date.now(), and nothing would pump again.
    if (this.pauseTimer !== null) return;
    for (const item of this.box.takeSendable()) {
      this.write(conn, { t: 'send', id: item.id, to: item.to, body: item.body });
    }
    if (conn.sendTimer === null) this.armSendTimer(conn);
  }

  /**
   * A send that never gets `sent` or `error` (a stuck server, or an answer this client cannot
   * decode) would hold the outbox forever, while pongs keep the watchdog happy: after
   * `requestTimeoutMs` without progress the connection is dropped and the sends go again.
   */
  private armSendTimer(conn: Connection): void {
    clearTimer(conn.sendTimer);
    conn.sendTimer = null;
    if (conn.dead || this.box.inFlightCount === 0) return;
    conn.sendTimer = setTimer(() => this.abandon(conn, 'send_timeout'), this.o.requestTimeoutMs);
  }

  outbox(): OutboxItem[] {
    return this.box.list();
  }

  send(to: string, body: string, options: { id?: string } = {}): OutboxItem {
    if (!this.session) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    if (options.id !== undefined && !isMessageId(options.id)) {
      throw new PigeonRequestError(ClientErrorCode.invalidArgument, 'id must be 1-64 of A-Z a-z 0-9 _ -');
    }
    const existing = options.id !== undefined ? this.box.get(options.id) : undefined;
    if (existing) return existing;
    const recipient = parseUserId(to);
    // A message ends the peer's "is typing" display, so the next keystroke must be able to
    // show it again at once rather than wait out the throttle window.
    if (recipient !== null) this.typingSentAt.delete(recipient);
    const item: OutboxItem = {
      id: options.id ?? randomId(),
      to: recipient ?? to,
      body,
      state: 'pending',
      createdAt: this.o.now(),
    };
    this.box.add(item);
    // The server would refuse these; failing at once saves a round trip and gives the same codes.
    if (recipient === null) this.box.markFailed(item.id, 'bad_frame', `not a user id: ${to}`);
    else if (typeof body !== 'string' || body.length === 0)
      this.box.markFailed(item.id, 'bad_frame', 'empty body');
    else if (body.length > LIMITS.bodyMaxLength) {
      this.box.markFailed(
        item.id,
        'too_large',
        `body is ${body.length} UTF-16 units; the limit is ${LIMITS.bodyMaxLength}`,
      );
    }
    this.outboxChanged();
    this.pumpOutbox();
    return this.box.get(item.id) ?? item;
  }

  retry(id: string): void {
    if (!this.box.retry(id)) return;
    const item = this.box.get(id);
    // A message that can never pass stays failed.
    if (item && item.body.length > LIMITS.bodyMaxLength) {
      this.box.markFailed(id, 'too_large', `body is ${item.body.length} UTF-16 units`);
    }
    this.outboxChanged();
    this.pumpOutbox();
  }

  discard(id: string): void {
    if (this.box.discard(id)) this.outboxChanged();
  }

  flush(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.box.hasPending()) return false;
        off();
        this.written().then(resolve, resolve);
        return true;
      };
      const off = this.on('outbox', () => {
        check();
      });
      check();
    });
  }

  whenOnline(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (s: ClientStatus) => {
        if (s.state === 'online') {
          off();
          resolve();
        } else if (s.state === 'unauthorized' || (s.state === 'offline' && !this.running)) {
          off();
          reject(new PigeonRequestError(ClientErrorCode.stopped, `client is ${s.state} (${s.reason ?? ''})`));
        }
      };
      const off = this.status.subscribe(check);
      const now = this.status.get();
      if (now.state === 'online' || now.state === 'unauthorized' || !this.running) check(now);
    });
  }

  // ------------------------------------------------------------------ requests

  private request<T extends ServerFrame>(frame: ClientFrame & { rid: string }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.running) {
        reject(new PigeonRequestError(ClientErrorCode.stopped, 'the client is not started'));
        return;
      }
      const req: PendingRequest = {
        frame,
        resolve: resolve as (f: ServerFrame) => void,
        reject,
        sentOn: null,
        timer: setTimer(() => {
          this.requests.delete(frame.rid);
          reject(
            new PigeonRequestError(ClientErrorCode.timeout, `no answer within ${this.o.requestTimeoutMs} ms`),
          );
        }, this.o.requestTimeoutMs),
      };
      this.requests.set(frame.rid, req);
      const conn = this.conn;
      if (conn?.online && this.write(conn, frame)) req.sentOn = conn;
    });
  }

  private settleRequest(rid: string, frame: ServerFrame): void {
    const req = this.requests.get(rid);
    if (!req) return;
    this.requests.delete(rid);
    clearTimer(req.timer);
    if (frame.t === 'error') req.reject(new PigeonRequestError(frame.code, frame.message));
    else req.resolve(frame);
  }

  async history(withUser: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const peer = parseUserId(withUser);
    if (!peer) throw new PigeonRequestError(ClientErrorCode.invalidArgument, `not a user id: ${withUser}`);
    const { before, limit } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.historyMaxLimit)) {
      throw new PigeonRequestError(
        ClientErrorCode.invalidArgument,
        `limit must be 1-${LIMITS.historyMaxLimit}`,
      );
    }
    const frame: ClientFrame & { rid: string } = { t: 'history', with: peer, rid: `h${++this.ridSeq}` };
    if (before !== undefined) frame.before = before;
    if (limit !== undefined) frame.limit = limit;
    const answer = await this.request<HistoryFrame>(frame);
    let changed = false;
    for (const m of answer.items) {
      if (this.session && m.from === this.session.user) {
        changed =
          (m.delivered ? this.box.markDelivered(m.id, m.ts) : this.box.markSent(m.id, m.ts)) || changed;
      }
    }
    if (changed) this.outboxChanged();
    return { items: answer.items, more: answer.more };
  }

  async conversations(): Promise<ConversationItem[]> {
    const answer = await this.request<ServerFrame>({ t: 'conversations', rid: `c${++this.ridSeq}` });
    return answer.t === 'conversations' ? answer.items : [];
  }

  typing(to: string): void {
    const peer = parseUserId(to);
    const conn = this.conn;
    if (!peer || !conn?.online) return;
    const now = this.o.now();
    const last = this.typingSentAt.get(peer);
    if (last !== undefined && now - last < this.o.typingThrottleMs) return;
    if (this.write(conn, { t: 'typing', to: peer })) this.typingSentAt.set(peer, now);
  }

  subscribePresence(users: string[]): void {
    const ids: string[] = [];
    for (const u of users) {
      const id = parseUserId(u);
      if (!id) throw new PigeonRequestError(ClientErrorCode.invalidArgument, `not a user id: ${u}`);
      if (!ids.includes(id)) ids.push(id);
    }
    if (ids.length > LIMITS.presenceMaxUsers) {
      throw new PigeonRequestError(
        ClientErrorCode.invalidArgument,
        `at most ${LIMITS.presenceMaxUsers} users`,
      );
    }
    this.presenceUsers = ids;
    const conn = this.conn;
    if (conn?.online && ids.length > 0) this.write(conn, { t: 'presence', users: ids });
  }
}

/** Creates a client. Nothing happens on the network until `login`/`register` or `start`. */
export function createClient(options: ClientOptions): PigeonClient {
  return new Client(options);
}
