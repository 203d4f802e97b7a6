import { ClientErrorCode, PigeonRequestError } from '@pigeon/client';
import { ErrorCode, parseUserId } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { navigateTo } from '../lib/navigation';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { featureActions } from './feature-actions';
import { cancelCompose, saveEdit } from './feature-requests';
import { jumpToLatest, openAtFirstUnread } from './log-positions';
import { fromOutbox } from './outbox-mapping';
import { activeClient, flushIncoming } from './runtime';

/** What the chat screen asks of the client: opening chats, history pages, sending. */

const PAGE_SIZE = DEFAULTS.historyPageSize;

/**
 * Opens a conversation (null closes it): at its first unread message under an "N unread
 * messages" line when the server counts some (`read`), else at the newest messages, fetched
 * the first time.
 */
export function openConversation(peer: string | null): void {
  const valid = peer === null ? null : parseUserId(peer);
  const before = useChatStore.getState();
  if (before.activePeer === valid) return;
  if (before.divider && before.divider.peer !== valid) featureActions.setDivider(null);
  const atUnread =
    valid !== null && before.features.has('read') && (before.conversations.get(valid)?.unread ?? 0) > 0;
  // Placed before the log first renders: it must not count the newest messages as read on the way.
  if (atUnread) featureActions.setPositioning(valid);
  chatActions.open(valid);
  // Whoever places the log (a search result, a quote) loads what it needs.
  if (!valid || before.positioning === valid) return;
  if (atUnread) void openAtFirstUnread(valid);
  else if (useChatStore.getState().conversations.get(valid)?.hasMore === null) void loadNewest(valid);
}

export async function loadNewest(peer: string): Promise<void> {
  const client = activeClient();
  const conv = useChatStore.getState().conversations.get(peer);
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
  const client = activeClient();
  const conv = useChatStore.getState().conversations.get(peer);
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

export type StartChatResult = 'ok' | 'invalid' | typeof ErrorCode.noSuchUser | 'offline' | 'error';

/** Request failures that mean "no answer from the server", not "the server said no". */
const OFFLINE = new Set<string>([
  ClientErrorCode.timeout,
  ClientErrorCode.disconnected,
  ClientErrorCode.stopped,
]);

/** The "new chat" field: checks that the user exists (history answers `no_such_user`) and opens it. */
export async function startChat(raw: string): Promise<StartChatResult> {
  const peer = parseUserId(raw.trim());
  const client = activeClient();
  if (!peer) return 'invalid';
  if (!client) return 'offline';
  const conv = useChatStore.getState().conversations.get(peer);
  if (conv && conv.messages.length > 0) {
    navigateTo(peer);
    return 'ok';
  }
  try {
    chatActions.historyLoading(peer);
    const page = await client.history(peer, { limit: PAGE_SIZE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, false);
    navigateTo(peer);
    return 'ok';
  } catch (e) {
    chatActions.historyFailed(peer);
    if (!(e instanceof PigeonRequestError)) return 'error';
    if (e.code === ErrorCode.noSuchUser) return ErrorCode.noSuchUser;
    if (OFFLINE.has(e.code)) return 'offline';
    return 'error';
  }
}

/** Ids of my messages shown in the log that are (or were) in the client's outbox. */
export const knownOutbox = { ids: new Set<string>() };

/**
 * Sends what the composer holds: a new message (answering the message being replied to, if
 * any), or the new text of the message being edited.
 */
export function send(peer: string, body: string): void {
  const client = activeClient();
  const s = useChatStore.getState();
  const me = s.me;
  if (!client || !me || body.length === 0) return;
  const mode = s.composing.get(peer);
  const c = s.conversations.get(peer);
  const target = mode && c ? [...c.messages, ...c.tail].find((m) => m.key === mode.key) : undefined;
  if (mode?.kind === 'edit') {
    if (target) void saveEdit(peer, target, body);
    else cancelCompose(peer);
    return;
  }
  const replyTo = mode?.kind === 'reply' && target ? { from: target.from, id: target.id } : undefined;
  const item = replyTo ? client.send(peer, body, { replyTo }) : client.send(peer, body);
  featureActions.compose(peer, null);
  // My own message is shown at the bottom: from a stretch in the middle, back to the newest.
  if (c?.hasNewer) void jumpToLatest(peer);
  // Shown at once as `sending`, also while offline; the outbox event confirms it.
  chatActions.outbox([fromOutbox(me, item)]);
  knownOutbox.ids.add(item.id);
  chatActions.setDraft(peer, '');
  if (s.divider?.peer === peer) featureActions.setDivider(null);
}

/** The composer's text, kept per conversation (saved for reloads by the bridge). */
export function setDraft(peer: string, text: string): void {
  chatActions.setDraft(peer, text);
}

export function retry(id: string): void {
  activeClient()?.retry(id);
}

export function discard(id: string): void {
  activeClient()?.discard(id);
}

export function notifyTyping(peer: string): void {
  const client = activeClient();
  if (client && peer !== useChatStore.getState().me) client.typing(peer);
}
