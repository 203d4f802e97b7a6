import { type ConversationItem, type Feature, type MessageRef, parseUserId } from '@pigeon/protocol';
import { type Account, presenceList } from './account.js';
import { Accounts } from './accounts.js';
import { ChatState } from './chat-state.js';
import type { ChatSettings, SearchOptions, SearchPage, WriteItem } from './chat-types.js';
import { ChatWrites } from './chat-writes.js';
import { ClientEmitter } from './client-events.js';
import { ClientErrorCode, PigeonRequestError, StatusReason } from './errors.js';
import type { DownloadOptions, DownloadResult } from './file-types.js';
import { authenticate, isServerUrl } from './http.js';
import { observable } from './observable.js';
import { type ClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { OutboxApi } from './outbox-api.js';
import { OutboxSender } from './outbox-sender.js';
import type { AbortSignalLike } from './platform-types.js';
import { Queries } from './queries.js';
import { CLIENT_GAVE_UP } from './reconnecting-socket.js';
import { Requests } from './requests.js';
import { ProtocolSession } from './session.js';
import type {
  ClientEventName,
  ClientEvents,
  ClientStatus,
  ConversationsOptions,
  ConversationsPage,
  HistoryOptions,
  HistoryPage,
  LogoutOptions,
  OutboxItem,
  PigeonClient,
  SendOptions,
  Session,
} from './types.js';
import { whenNothingPending, whenOnline } from './waits.js';
import { WriteSender } from './write-sender.js';

// The public face of the client: sign-in, the account's lifecycle and the API, composed from
// the parts (reconnecting socket, protocol session, inbox, outbox and its sender, write queue
// and its sender, requests, chat state, persistence), each in its own file. Over 300 lines
// because it is the facade: one short method per call of the public interface (types.ts) and
// the wiring of the parts; the logic is in the parts.

function invalid(message: string): PigeonRequestError {
  return new PigeonRequestError(ClientErrorCode.invalidArgument, message);
}

class Client implements PigeonClient {
  private readonly o: ResolvedOptions;
  private readonly events = new ClientEmitter();
  private readonly statusValue = observable<ClientStatus>({
    state: 'offline',
    reason: StatusReason.notStarted,
  });
  readonly status = this.statusValue;
  private readonly featuresValue = observable<readonly Feature[]>([]);
  readonly features = this.featuresValue;
  private readonly pendingValue = observable(0);
  readonly pendingCount = this.pendingValue;
  private readonly pendingWritesValue = observable<readonly WriteItem[]>([]);
  readonly pendingWrites = this.pendingWritesValue;
  private readonly chat = new ChatState();
  readonly readStates = this.chat.readStates;
  readonly settings = this.chat.settings;
  private readonly requests: Requests;
  private readonly sender: OutboxSender;
  private readonly writeSender: WriteSender;
  private readonly chatWrites: ChatWrites;
  private readonly outboxApi: OutboxApi;
  private readonly session: ProtocolSession;
  private readonly queries: Queries;
  /** Sends and writes await answers: the link's watchdog runs faster while either does. */
  private readonly busy = { sends: false, writes: false };
  /** The user whose state the chat state and the write waiters belong to. */
  private stateOwner: string | null = null;

  private readonly accounts: Accounts;
  /** The application wants a connection (between `start` and `stop`, unless the server refused us for good). */
  private wanted = false;
  private unsubscribeNetwork: (() => void) | null = null;

  constructor(options: ClientOptions) {
    if (!isServerUrl(options.server)) throw invalid('server must be an http(s):// or ws(s):// URL');
    if (typeof options.WebSocket !== 'function')
      throw invalid('options.WebSocket must be a WebSocket constructor');
    this.o = resolveOptions(options);
    this.accounts = new Accounts(this.o, this.events, {
      stop: () => this.stop(),
      loaded: () => {
        this.ownedBy(this.account?.user ?? null);
        // Bytes of messages stored before a crash or reload are not needed any more.
        this.outboxApi.releaseStored(this.account?.box.list() ?? []);
        this.emitOutbox();
        this.emitWrites();
        this.sender.pump();
        this.writeSender.pump();
        this.outboxApi.uploader.pump();
      },
      cleared: () => {
        this.ownedBy(null);
        this.emitOutbox();
        this.emitWrites();
      },
    });
    this.requests = new Requests(this.o.requestTimeoutMs);
    this.sender = new OutboxSender(this.o, {
      box: () => this.account?.box ?? null,
      online: () => this.session.online,
      features: () => this.features.get(),
      write: (frame) => this.session.write(frame),
      changed: () => this.outboxChanged(),
      busy: (busy) => this.setBusy('sends', busy),
      stalled: () => this.session.socket.abandon(CLIENT_GAVE_UP, 'send_timeout'),
    });
    this.writeSender = new WriteSender(
      { ...this.o, nextRid: (prefix) => this.requests.nextRid(prefix) },
      {
        queue: () => this.account?.writes ?? null,
        online: () => this.session.online,
        features: () => this.features.get(),
        write: (frame) => this.session.write(frame),
        changed: () => this.writesChanged(),
        busy: (busy) => this.setBusy('writes', busy),
        stalled: () => this.session.socket.abandon(CLIENT_GAVE_UP, 'write_timeout'),
        waits: (op) =>
          'from' in op && op.from === this.user && this.account?.box.get(op.id)?.state === 'pending',
        failed: (failure) => this.events.emit('writeFailed', failure),
        stored: (op) => this.chat.onStored(op),
        markFailed: (peer, code, message) =>
          this.events.error(code, `the read mark in the conversation with ${peer} was refused: ${message}`),
      },
    );
    this.outboxApi = new OutboxApi(this.o, {
      account: () => this.account,
      outboxChanged: () => this.outboxChanged(),
      active: () => this.wanted && this.status.get().state !== 'waiting_for_network',
      progress: (p) => this.events.emit('upload', p),
    });
    this.chatWrites = new ChatWrites(this.o, this.writeSender, {
      account: () => this.account,
      writesChanged: () => this.writesChanged(),
      outboxChanged: () => this.outboxChanged(),
      discard: (id) => this.discard(id),
    });
    this.session = new ProtocolSession({
      o: this.o,
      events: this.events,
      status: this.statusValue,
      requests: this.requests,
      sender: this.sender,
      writes: this.writeSender,
      account: () => this.account,
      outboxChanged: () => this.outboxChanged(),
      features: this.featuresValue,
      processed: (entry) => this.chat.onEntry(entry, this.features.get().includes('read')),
      online: () => {
        this.writeSender.pump();
        const f = this.features.get();
        // The settings are not in the mailbox's past: ask for them on every connection.
        if (f.includes('read') || f.includes('block')) this.refreshSettings().catch(() => {});
      },
    });
    this.queries = new Queries(this.o, this.requests, {
      running: () => this.wanted,
      write: (frame) => this.session.writeRequest(frame),
      generation: () => this.session.generation,
      features: () => this.features.get(),
      account: () => this.account,
      outboxChanged: () => this.outboxChanged(),
      rows: (frame) => this.chat.onRows(frame.items),
      settingsAsked: () => this.chat.settingsAsked(),
      settings: (frame, mark) => this.chat.onSettings(frame, mark),
      settingsSettled: (mark) => this.chat.settingsSettled(mark),
    });
    this.status.subscribe((s) => {
      // The server refused us for good (4001, 4003): nothing will reconnect until `start` again.
      if (
        s.state === 'unauthorized' ||
        (s.state === 'offline' && s.reason === StatusReason.unsupportedVersion)
      ) {
        this.wanted = false;
        this.unsubscribeNetwork?.();
        this.unsubscribeNetwork = null;
      }
      this.events.emit('status', s);
      // Uploads go with the connection: back online, a waiting retry goes at once; network
      // gone, the one in progress stops (it resumes from the server's offset).
      if (s.state === 'online') this.outboxApi.uploader.kick();
      else if (s.state === 'waiting_for_network') this.outboxApi.uploader.stop();
    });
  }

  private get account(): Account | null {
    return this.accounts.current;
  }

  /** Another user (or nobody) is signed in now: what belonged to the previous one goes. */
  private ownedBy(user: string | null): void {
    if (user === this.stateOwner) return;
    this.stateOwner = user;
    this.writeSender.abandonWaiters(
      ClientErrorCode.stopped,
      'signed out; the write stays queued for its user',
    );
    this.chat.reset(user);
  }

  private setBusy(what: keyof Client['busy'], busy: boolean): void {
    this.busy[what] = busy;
    this.session.socket.setBusy(this.busy.sends || this.busy.writes);
  }

  get user(): string | null {
    return this.account?.user ?? null;
  }

  // ------------------------------------------------------------------ session

  register(user: string, password: string): Promise<Session> {
    return this.signIn('register', user, password);
  }

  login(user: string, password: string): Promise<Session> {
    return this.signIn('login', user, password);
  }

  private async signIn(kind: 'register' | 'login', user: string, password: string): Promise<Session> {
    if (!this.o.fetch) throw invalid('no fetch available: pass options.fetch');
    const session = await authenticate(
      this.o.fetch,
      this.o.server,
      kind,
      user,
      password,
      this.o.requestTimeoutMs,
    );
    await this.accounts.set(session);
    return session;
  }

  async useToken(user: string, token: string): Promise<void> {
    const id = parseUserId(user);
    if (!id) throw invalid(`not a user id: ${user}`);
    await this.accounts.set({ user: id, token });
  }

  restore(): Promise<Session | null> {
    return this.accounts.restore();
  }

  logout(options: LogoutOptions = {}): Promise<void> {
    return this.accounts.logout(options);
  }

  changePassword(password: string, newPassword: string): Promise<void> {
    return this.accounts.changePassword(password, newPassword);
  }

  async persisted(): Promise<void> {
    const account = this.account;
    // Attachments handed to `send` are in their store before the outbox that names them counts as saved.
    await this.outboxApi.uploader.held();
    if (account) await this.accounts.settle(account, 'persist client state');
  }

  // ------------------------------------------------------------------ events and lifecycle

  on<E extends ClientEventName>(event: E, listener: ClientEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  async start(): Promise<void> {
    const account = this.account;
    if (!account) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    if (this.wanted) return;
    this.wanted = true;
    if (!this.unsubscribeNetwork && this.o.onNetworkOnline) {
      this.unsubscribeNetwork = this.o.onNetworkOnline(() => this.setNetwork(true));
    }
    // The stored outbox and cursor are read before the first hello.
    await this.accounts.loading;
    if (this.wanted && this.account === account) {
      this.session.socket.start();
      this.outboxApi.uploader.kick();
    }
  }

  stop(): void {
    const wasActive = this.wanted || this.session.socket.isRunning;
    this.wanted = false;
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = null;
    this.sender.stop();
    this.writeSender.stop();
    this.outboxApi.uploader.stop();
    this.session.stop();
    this.requests.rejectAll(ClientErrorCode.stopped, 'the client was stopped');
    if (wasActive || this.status.get().state !== 'unauthorized')
      this.statusValue.set({ state: 'offline', reason: StatusReason.stopped });
  }

  setNetwork(online: boolean): void {
    this.session.socket.setNetwork(online);
  }

  reconnectNow(): void {
    this.session.socket.reconnectNow();
  }

  nextAttemptIn(): number | null {
    return this.status.get().state === 'reconnecting' ? this.session.socket.nextAttemptIn() : null;
  }

  whenOnline(): Promise<void> {
    return whenOnline(this.status, () => this.wanted);
  }

  // ------------------------------------------------------------------ outbox

  private emitOutbox(): void {
    const box = this.account?.box;
    this.pendingValue.set(box?.pendingCount ?? 0);
    this.events.emit('outbox', box?.list() ?? []);
  }

  private outboxChanged(): void {
    this.account?.persistence.mark('outbox');
    this.emitOutbox();
    this.outboxApi.releaseStored(this.account?.box.list() ?? []);
    this.sender.pump();
    this.outboxApi.uploader.pump();
    // A write about one of my messages waits until that message left the outbox's pending state.
    this.writeSender.pump();
  }

  private emitWrites(): void {
    this.pendingWritesValue.set(this.account?.writes.list() ?? []);
  }

  private writesChanged(): void {
    this.account?.persistence.mark('writes');
    this.emitWrites();
  }

  outbox(): OutboxItem[] {
    return this.account?.box.list() ?? [];
  }

  send(to: string, body: string, options: SendOptions = {}): OutboxItem {
    return this.outboxApi.send(to, body, options);
  }

  retry(id: string): void {
    this.outboxApi.retry(id);
  }

  discard(id: string): void {
    this.outboxApi.discard(id);
  }

  download(fileId: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    if (!this.account)
      return Promise.reject(new PigeonRequestError(ClientErrorCode.noSession, 'log in first'));
    return this.outboxApi.download(fileId, options);
  }

  flush(options: { signal?: AbortSignalLike } = {}): Promise<void> {
    return whenNothingPending(this.pendingCount, () => this.persisted(), options.signal);
  }

  // ------------------------------------------------------------------ requests

  history(withUser: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.queries.history(withUser, options);
  }

  ping(): Promise<number> {
    return this.queries.ping();
  }

  conversations(): Promise<ConversationItem[]> {
    return this.queries.conversations();
  }

  conversationsPage(options: ConversationsOptions = {}): Promise<ConversationsPage> {
    return this.queries.conversationsPage(options);
  }

  search(q: string, options: SearchOptions = {}): Promise<SearchPage> {
    try {
      return this.queries.search(q, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  refreshSettings(): Promise<ChatSettings> {
    return this.queries.settings();
  }

  // ------------------------------------------------------------------ writes (chat-writes.ts)

  markRead(peer: string, upto: string): Promise<void> {
    return this.chatWrites.markRead(peer, upto);
  }

  edit(ref: MessageRef, body: string): Promise<void> {
    return this.chatWrites.edit(ref, body);
  }

  deleteForEveryone(ref: MessageRef): Promise<void> {
    return this.chatWrites.deleteForEveryone(ref);
  }

  hide(ref: MessageRef): Promise<void> {
    return this.chatWrites.hide(ref);
  }

  react(ref: MessageRef, emoji: string | null): Promise<void> {
    return this.chatWrites.react(ref, emoji);
  }

  block(user: string): Promise<void> {
    return this.chatWrites.block(user, true);
  }

  unblock(user: string): Promise<void> {
    return this.chatWrites.block(user, false);
  }

  setReadReceipts(on: boolean): Promise<void> {
    return this.chatWrites.setReadReceipts(on);
  }

  typing(to: string): void {
    const peer = parseUserId(to);
    const account = this.account;
    if (!peer || !account || !this.session.online) return;
    const now = this.o.now();
    const last = account.typingSentAt.get(peer);
    if (last !== undefined && now - last < this.o.typingThrottleMs) return;
    if (this.session.write({ t: 'typing', to: peer })) account.typingSentAt.set(peer, now);
  }

  subscribePresence(users: string[]): void {
    const ids = presenceList(users);
    const account = this.account;
    if (!account) return;
    account.presence = ids;
    if (this.session.online && ids.length > 0) this.session.write({ t: 'presence', users: ids });
  }
}

/** Creates a client. Nothing happens on the network until `login`/`register` or `start`. */
export function createClient(options: ClientOptions): PigeonClient {
  return new Client(options);
}
