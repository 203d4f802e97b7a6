import {
  createClient,
  localStorageAdapter,
  type OutboxItem,
  type PigeonClient,
  PigeonHttpError,
  PigeonRequestError,
  type WebSocketConstructor,
} from '@pigeon/client';
import { LIMITS, type MsgFrame, parseUserId } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { type Language, pickLanguage } from '../i18n/strings';
import { navigateTo, onNavigate, peerFromHash } from '../lib/navigation';
import { type ChatState, chatActions, useChatStore } from './chat-store';
import { messageKey } from './message-model';
import { fromOutbox } from './outbox-mapping';
import { clearUnread, loadLanguage, loadUnread, saveLanguage, saveUnread } from './saved-state';
import { selectPresencePeers } from './selectors';

/**
 * The one connection to the server for this page. It lives here, at module level, never in
 * React state: components read the store and call the actions below, and only this module
 * talks to the client.
 */
let client: PigeonClient | null = null;

const PAGE_SIZE = DEFAULTS.historyPageSize;

function getClient(): PigeonClient {
  if (client) return client;
  const c = createClient({
    server: location.origin,
    WebSocket: globalThis.WebSocket as unknown as WebSocketConstructor,
    storage: localStorageAdapter(localStorage),
    onNetworkOnline: (cb) => {
      addEventListener('online', cb);
      return () => removeEventListener('online', cb);
    },
  });
  wire(c);
  client = c;
  return c;
}

// ------------------------------------------------------------------ client → store

let incoming: MsgFrame[] = [];
let incomingTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Applies the batched entries now. Called before any answer (history, conversations,
 * receipt) is applied, so an entry is always seen first as the live message it is and
 * counted as unread, not first as an old row of a list.
 */
function flushIncoming(): void {
  if (incomingTimer !== null) clearTimeout(incomingTimer);
  incomingTimer = null;
  if (incoming.length === 0) return;
  const batch = incoming;
  incoming = [];
  chatActions.receive(batch);
}

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
let knownOutbox = new Set<string>();

function applyOutbox(items: readonly OutboxItem[]): void {
  const me = useChatStore.getState().me;
  if (!me) return;
  chatActions.outbox(items.map((item) => fromOutbox(me, item)));
  // An unsettled message that left the outbox was discarded: it leaves the log too.
  const now = new Set(items.map((i) => i.id));
  for (const id of knownOutbox) {
    if (now.has(id)) continue;
    const state = useChatStore.getState();
    for (const c of Object.values(state.conversations)) {
      if (c.messages.some((m) => m.key === messageKey(me, id)))
        chatActions.removeOutbox(c.peer, messageKey(me, id));
    }
  }
  knownOutbox = now;
}

function wire(c: PigeonClient): void {
  c.on('message', (m) => {
    incoming.push(m);
    if (incomingTimer === null) incomingTimer = setTimeout(flushIncoming, DEFAULTS.receiveBatchMs);
  });
  c.on('outbox', applyOutbox);
  c.on('receipt', ({ id, to }) => {
    // A receipt can overtake a batched echo; apply pending entries first.
    flushIncoming();
    chatActions.receipt(id, to);
  });
  c.on('typing', ({ from }) => {
    chatActions.typing(from);
    clearTimeout(typingTimers.get(from));
    typingTimers.set(
      from,
      setTimeout(() => chatActions.clearTyping(from), DEFAULTS.typingShowMs),
    );
  });
  c.on('presence', ({ user, online }) => chatActions.presence(user, online));
  c.on('gap', () => {
    chatActions.forgetHistory();
  });
  c.on('synced', () => {
    void refreshAfterSync();
  });
  c.on('unauthorized', () => {
    const me = useChatStore.getState().me;
    // The outbox stays, to be sent after the next sign-in.
    void c.logout({ clearData: false });
    stopWatching();
    if (me) chatActions.signedOut('sessionExpired');
  });
  c.on('status', (s) => {
    // (client helper's minimal edit: the web helper gives 'waiting_for_network' its own wording.)
    const kind = s.state === 'waiting_for_network' ? 'reconnecting' : s.state;
    chatActions.setStatus({ kind, nextAttemptAt: s.nextAttemptAt });
    // The server reports everyone's state again after the next subscription.
    if (s.state !== 'online' && s.state !== 'syncing') chatActions.forgetPresence();
  });
}

/** After every (re)connect: the sidebar's rows, and the open conversation if it needs history. */
async function refreshAfterSync(): Promise<void> {
  const c = client;
  if (!c) return;
  try {
    const items = await c.conversations();
    flushIncoming();
    chatActions.conversationsList(items);
  } catch {
    // The next sync tries again; the sidebar keeps what it has.
  }
  const { activePeer, conversations } = useChatStore.getState();
  if (activePeer && conversations[activePeer]?.hasMore === null) void loadNewest(activePeer);
}

// ------------------------------------------------------------------ store → client

let unsubscribers: (() => void)[] = [];
let saveTimer: ReturnType<typeof setTimeout> | null = null;

/** Writes the unread counts and read marks, so they survive a reload. */
function saveUnreadSoon(): void {
  if (saveTimer !== null) return;
  saveTimer = setTimeout(() => {
    saveTimer = null;
    const st = useChatStore.getState();
    if (!st.me) return;
    const unread: Record<string, number> = {};
    for (const conv of Object.values(st.conversations)) if (conv.unread > 0) unread[conv.peer] = conv.unread;
    saveUnread(st.me, { unread, readMarks: st.readMarks });
  }, DEFAULTS.saveDelayMs);
}

/** Follows the store for what the client must be told (presence) and what must be saved. */
function watchStore(): void {
  let lastPeers = '';
  let lastSaved: unknown = null;
  const follow = (s: ChatState) => {
    if (s.auth !== 'signed-in' || !client) return;
    // Presence: everyone we have a conversation with.
    const peers = selectPresencePeers(s).slice(0, LIMITS.presenceMaxUsers);
    const joined = peers.join(',');
    if (joined !== lastPeers && peers.length > 0) {
      lastPeers = joined;
      client.subscribePresence(peers);
    }
    if (s.conversations !== lastSaved) {
      lastSaved = s.conversations;
      saveUnreadSoon();
    }
  };
  unsubscribers.push(useChatStore.subscribe(follow));
  follow(useChatStore.getState());
}

/** The session ended: stop following the store, and drop entries not applied yet (they were that user's). */
function stopWatching(): void {
  for (const off of unsubscribers) off();
  unsubscribers = [];
  if (incomingTimer !== null) clearTimeout(incomingTimer);
  incomingTimer = null;
  incoming = [];
}

function afterSession(user: string): void {
  const c = getClient();
  stopWatching();
  chatActions.signedIn(user, loadUnread(user));
  knownOutbox = new Set();
  applyOutbox(c.outbox());
  watchStore();
  const peer = peerFromHash();
  if (peer) openConversation(peer);
  void c.start();
}

// ------------------------------------------------------------------ actions for the UI

export type SignInMode = 'signin' | 'register';
export interface SignInFailure {
  code: string;
  retryAfterSeconds?: number | undefined;
}

let booted = false;

/** Starts the app: language, tab visibility, routing, and a saved session if there is one. */
export async function boot(): Promise<void> {
  if (booted) return;
  booted = true;
  chatActions.setLanguage(loadLanguage() ?? pickLanguage(navigator.languages ?? [navigator.language]));
  chatActions.setVisible(document.visibilityState !== 'hidden');
  document.addEventListener('visibilitychange', () =>
    chatActions.setVisible(document.visibilityState !== 'hidden'),
  );
  onNavigate((peer) => {
    if (useChatStore.getState().auth === 'signed-in') openConversation(peer);
  });
  try {
    const session = await getClient().restore();
    if (session) {
      afterSession(session.user);
      return;
    }
  } catch {
    // A corrupt saved session is as good as none.
  }
  chatActions.signedOut();
}

export async function signIn(
  mode: SignInMode,
  user: string,
  password: string,
): Promise<SignInFailure | null> {
  const c = getClient();
  try {
    const session = mode === 'register' ? await c.register(user, password) : await c.login(user, password);
    afterSession(session.user);
    return null;
  } catch (e) {
    if (e instanceof PigeonHttpError) return { code: e.code, retryAfterSeconds: e.retryAfterSeconds };
    return { code: 'unreachable' };
  }
}

export async function signOut(): Promise<void> {
  const me = useChatStore.getState().me;
  stopWatching();
  if (client) await client.logout({ clearData: true });
  if (me) clearUnread(me);
  chatActions.signedOut();
  navigateTo(null);
}

export function setLanguage(language: Language): void {
  saveLanguage(language);
  chatActions.setLanguage(language);
}

/** Opens a conversation (null closes it); fetches its newest messages the first time. */
export function openConversation(peer: string | null): void {
  const valid = peer === null ? null : parseUserId(peer);
  chatActions.open(valid);
  if (valid && useChatStore.getState().conversations[valid]?.hasMore === null) void loadNewest(valid);
}

async function loadNewest(peer: string): Promise<void> {
  const conv = useChatStore.getState().conversations[peer];
  if (!client || conv?.loading) return;
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { limit: PAGE_SIZE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, false);
  } catch {
    chatActions.historyFailed(peer);
  }
}

/** The page before the oldest message we hold, when scrolling up. */
export async function loadOlder(peer: string): Promise<void> {
  const conv = useChatStore.getState().conversations[peer];
  if (!client || !conv || conv.loading) return;
  if (conv.hasMore === null) return loadNewest(peer);
  if (!conv.hasMore) return;
  const before = conv.messages.find((m) => m.cursor)?.cursor;
  if (!before) return loadNewest(peer);
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { before, limit: PAGE_SIZE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, true);
  } catch {
    chatActions.historyFailed(peer);
  }
}

export type StartChatResult = 'ok' | 'invalid' | 'no_such_user' | 'offline' | 'error';

/** The "new chat" field: checks that the user exists (history answers `no_such_user`) and opens it. */
export async function startChat(raw: string): Promise<StartChatResult> {
  const peer = parseUserId(raw.trim());
  if (!peer) return 'invalid';
  const c = getClient();
  const conv = useChatStore.getState().conversations[peer];
  if (conv && conv.messages.length > 0) {
    navigateTo(peer);
    return 'ok';
  }
  try {
    chatActions.historyLoading(peer);
    const page = await c.history(peer, { limit: PAGE_SIZE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, false);
    navigateTo(peer);
    return 'ok';
  } catch (e) {
    chatActions.historyFailed(peer);
    const code = e instanceof PigeonRequestError ? e.code : 'error';
    if (code === 'no_such_user') return 'no_such_user';
    if (code === 'timeout' || code === 'disconnected' || code === 'stopped') return 'offline';
    return 'error';
  }
}

export function send(peer: string, body: string): void {
  const me = useChatStore.getState().me;
  if (!client || !me || body.length === 0) return;
  const item = client.send(peer, body);
  // Shown at once as `sending`, also while offline; the outbox event confirms it.
  chatActions.outbox([fromOutbox(me, item)]);
  knownOutbox.add(item.id);
}

export function retry(id: string): void {
  client?.retry(id);
}

export function discard(id: string): void {
  client?.discard(id);
}

export function notifyTyping(peer: string): void {
  const me = useChatStore.getState().me;
  if (client && peer !== me) client.typing(peer);
}
