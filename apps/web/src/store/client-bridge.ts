import {
  ClientErrorCode,
  createClient,
  type OutboxItem,
  type PigeonClient,
  PigeonHttpError,
  type Session,
  xhrTransport,
} from '@pigeon/client';
import type { MsgFrame } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { navigateTo, onNavigate, type Route, routeFromHash } from '../lib/navigation';
import { prepareSound } from '../lib/notifications';
import { alertNewMessages, closeReadNotifications } from './alerts';
import { noteStoredUploads, uploadProgress, uploadsDone } from './attachment-actions';
import { pageAttachments } from './attachment-store';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { knownOutbox, loadNewest, openConversation } from './conversation-actions';
import { prepareDocument } from './document-setup';
import { featureActions } from './feature-actions';
import { prepareIncoming, prepareUpdate } from './incoming';
import { messageKey } from './message-model';
import { watchNetwork } from './network';
import { fromOutbox } from './outbox-mapping';
import { storage } from './page-storage';
import {
  activeClient,
  dropIncoming,
  flushIncoming,
  onNewMessages,
  queueIncoming,
  setActiveClient,
} from './runtime';
import { clearUserData, loadDrafts, loadRecent, loadUnread } from './saved-state';
import { watchSession } from './session-watch';
import type { SignInFailure, SignInMode } from './startup';

/**
 * Connects the client to the store: client events become store actions, and the session's
 * lifecycle (boot, sign-in, sign-out) happens here. The client itself lives in runtime.ts.
 */
function getClient(): PigeonClient {
  const existing = activeClient();
  if (existing) return existing;
  const c = createClient({
    server: location.origin,
    WebSocket: globalThis.WebSocket,
    storage: storage(),
    features: WEB_FEATURES,
    // Attachments wait in IndexedDB until uploaded; XMLHttpRequest reports upload progress by the byte.
    attachments: pageAttachments(),
    transport: xhrTransport(XMLHttpRequest),
  });
  wire(c);
  setActiveClient(c);
  return c;
}

/**
 * The protocol extensions this app draws (PROTOCOL.md "Extensions"); what the server enables
 * of them is `client.features`, and the UI offers only that (a version-1 server: none).
 */
const WEB_FEATURES = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search', 'files'] as const;

// ------------------------------------------------------------------ client → store

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

function applyOutbox(items: readonly OutboxItem[]): void {
  const me = useChatStore.getState().me;
  if (!me) return;
  chatActions.outbox(items.map((item) => fromOutbox(me, item)));
  chatActions.setUnsent(items.filter((i) => i.state === 'pending' || i.state === 'failed').length);
  noteStoredUploads(items);
  uploadsDone(
    new Set(items.filter((i) => i.state === 'pending' && i.files?.some((f) => !f.file)).map((i) => i.id)),
  );
  // An unsettled message that left the outbox was discarded: it leaves the log too.
  const now = new Set(items.map((i) => i.id));
  for (const id of knownOutbox.ids) {
    if (now.has(id)) continue;
    const key = messageKey(me, id);
    for (const c of useChatStore.getState().conversations.values()) {
      if (c.messages.some((m) => m.key === key) || c.tail.some((m) => m.key === key))
        chatActions.removeOutbox(c.peer, key);
    }
  }
  knownOutbox.ids = now;
}

function wire(c: PigeonClient): void {
  c.on('message', (m: MsgFrame) => {
    const me = useChatStore.getState().me;
    if (!me) return;
    // Checked here, synchronously: an entry that cannot be handled makes this listener throw,
    // so the client does not count it as processed (see PLAN/README), and the others go on.
    queueIncoming(prepareIncoming(me, m));
  });
  // Updates (edits, read marks, reactions...) go through the same queue, in mailbox order.
  c.on('update', (u) => {
    if (useChatStore.getState().me) queueIncoming(prepareUpdate(u));
  });
  c.features.subscribe((f) => featureActions.setFeatures(f));
  c.readStates.subscribe((r) => featureActions.setReadStates(r));
  c.settings.subscribe((st) => featureActions.setSettings(st));
  c.on('outbox', applyOutbox);
  c.on('upload', ({ id, index, loaded, total }) => uploadProgress(id, index, loaded, total));
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
  c.on('gap', () => chatActions.forgetHistory());
  c.on('synced', () => void refreshAfterSync());
  c.on('unauthorized', () => {
    const me = useChatStore.getState().me;
    // The outbox stays, to be sent after the next sign-in.
    void c.logout({ clearData: false });
    stopWatching();
    if (me) chatActions.signedOut('sessionExpired');
  });
}

/** After every (re)connect: the sidebar's rows, and the open conversation if it needs history. */
async function refreshAfterSync(): Promise<void> {
  const c = activeClient();
  if (!c) return;
  try {
    const items = await c.conversations();
    flushIncoming();
    chatActions.conversationsList(items);
  } catch {
    // The next sync tries again; the sidebar keeps what it has.
  }
  const { activePeer, conversations } = useChatStore.getState();
  if (activePeer && conversations.get(activePeer)?.hasMore === null) void loadNewest(activePeer);
}

let stopSession: (() => void) | null = null;

/** The session ended: stop following the store, and drop entries not applied yet (they were that user's). */
function stopWatching(): void {
  stopSession?.();
  stopSession = null;
  dropIncoming();
}

async function afterSession(s: Session): Promise<void> {
  const c = getClient();
  stopWatching();
  const [saved, drafts, recent] = await Promise.all([
    loadUnread(storage(), s.user),
    loadDrafts(storage(), s.user),
    loadRecent(storage(), s.user),
  ]);
  chatActions.signedIn(s.user, saved, drafts, recent);
  // The client's observables tell changes only: start from what they hold now.
  featureActions.setFeatures(c.features.get());
  featureActions.setReadStates(c.readStates.get());
  featureActions.setSettings(c.settings.get());
  knownOutbox.ids = new Set();
  applyOutbox(c.outbox());
  stopSession = watchSession(s.user);
  followRoute(routeFromHash());
  void c.start();
}

/** The URL hash decides the page: a conversation, the list, or Settings. */
function followRoute(route: Route): void {
  if (useChatStore.getState().auth !== 'signed-in') return;
  chatActions.setView(route.kind);
  if (route.kind === 'chats') openConversation(route.peer);
}

// ------------------------------------------------------------------ actions for the UI

let started = false;

/**
 * Starts the client part of the app (startup.ts has prepared the document): network hints,
 * navigation, alerts, and, when storage holds a session (`restore`), that session.
 */
export async function startClient(options: { restore: boolean } = { restore: true }): Promise<void> {
  if (started) return;
  started = true;
  onNavigate(followRoute);
  watchNetwork(getClient());
  prepareSound();
  onNewMessages(alertNewMessages);
  useChatStore.subscribe((s, prev) => {
    // Becoming visible marks what the open conversation shows as read.
    if (s.visible && !prev.visible) chatActions.markRead();
    closeReadNotifications(s, prev);
  });
  if (!options.restore) return;
  try {
    const s = await getClient().restore();
    if (s) {
      await afterSession(s);
      return;
    }
  } catch {
    // A corrupt saved session is as good as none.
  }
  chatActions.signedOut();
}

/** The whole start at once (the page uses startup.ts's boot, which loads this module lazily). */
export async function boot(): Promise<void> {
  await prepareDocument();
  await startClient();
}

export async function signIn(
  mode: SignInMode,
  user: string,
  password: string,
): Promise<SignInFailure | null> {
  const c = getClient();
  try {
    const s = mode === 'register' ? await c.register(user, password) : await c.login(user, password);
    await afterSession(s);
    return null;
  } catch (e) {
    if (e instanceof PigeonHttpError) return { code: e.code, retryAfterSeconds: e.retryAfterSeconds };
    return { code: ClientErrorCode.unreachable };
  }
}

/**
 * Resolves once no message of mine is still pending (sent, or failed and waiting for me);
 * rejects when `signal` aborts (the user cancelled the wait) or storage fails.
 */
export function waitUntilSent(signal?: AbortSignal): Promise<void> {
  return activeClient()?.flush({ signal }) ?? Promise.resolve();
}

/**
 * Signs out of this browser and revokes the session's token on the server. Messages not sent
 * yet stay stored for this user only, and go out at their next sign-in here (the UI asks
 * before it comes to that); drafts stay too, so nothing typed is lost. Everything else of
 * this user (unread counts, recent messages, the cursor) is removed from the browser.
 * Offline (the server cannot be told), it signs out here all the same: the token then ends
 * at its expiry, or with "sign out of all devices". Resolves false, still signed in, when
 * the client could not save the outbox first.
 */
export async function signOut(): Promise<boolean> {
  const client = activeClient();
  const keep = useChatStore.getState().unsent > 0;
  if (client) {
    try {
      await client.logout({ revoke: 'session', clearData: !keep });
    } catch (err) {
      if (!(err instanceof PigeonHttpError)) return false;
      try {
        await client.logout({ clearData: !keep });
      } catch {
        return false;
      }
    }
  }
  await finishSignOut();
  return true;
}

/** What remains after the client signed out: forget this user's data here, show the sign-in page. */
export async function finishSignOut(): Promise<void> {
  const me = useChatStore.getState().me;
  stopWatching();
  if (me) await clearUserData(storage(), me).catch(() => undefined);
  chatActions.signedOut();
  navigateTo(null);
}

/** "Retry now": connect again at once instead of waiting out the backoff. */
export function retryConnection(): void {
  activeClient()?.reconnectNow();
}
