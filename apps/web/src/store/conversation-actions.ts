import { PigeonRequestError } from '@pigeon/client';
import { parseUserId } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { navigateTo } from '../lib/navigation';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { fromOutbox } from './outbox-mapping';
import { activeClient, flushIncoming } from './runtime';

/** What the chat screen asks of the client: opening chats, history pages, sending. */

const PAGE_SIZE = DEFAULTS.historyPageSize;

/** Opens a conversation (null closes it); fetches its newest messages the first time. */
export function openConversation(peer: string | null): void {
  const valid = peer === null ? null : parseUserId(peer);
  chatActions.open(valid);
  if (valid && useChatStore.getState().conversations.get(valid)?.hasMore === null) void loadNewest(valid);
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

export type StartChatResult = 'ok' | 'invalid' | 'no_such_user' | 'offline' | 'error';

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
    const code = e instanceof PigeonRequestError ? e.code : 'error';
    if (code === 'no_such_user') return 'no_such_user';
    if (code === 'timeout' || code === 'disconnected' || code === 'stopped') return 'offline';
    return 'error';
  }
}

/** Ids of my messages shown in the log that are (or were) in the client's outbox. */
export const knownOutbox = { ids: new Set<string>() };

export function send(peer: string, body: string): void {
  const client = activeClient();
  const me = useChatStore.getState().me;
  if (!client || !me || body.length === 0) return;
  const item = client.send(peer, body);
  // Shown at once as `sending`, also while offline; the outbox event confirms it.
  chatActions.outbox([fromOutbox(me, item)]);
  knownOutbox.ids.add(item.id);
  chatActions.setDraft(peer, '');
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
