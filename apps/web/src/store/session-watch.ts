import { LIMITS } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { saver } from '../lib/saver';
import { type ChatState, useChatStore } from './chat-store';
import { storage } from './page-storage';
import { activeClient } from './runtime';
import { keepDraftsForReload, saveDrafts, saveRecent, saveUnread } from './saved-state';
import { selectPresencePeers } from './selectors';

/**
 * The drafts to keep: while a message is being edited the composer holds its new text, which
 * is not a draft; the draft from before the edit is kept instead.
 */
function keptDrafts(s: ChatState): ReadonlyMap<string, string> {
  if (s.composing.size === 0) return s.drafts;
  const out = new Map(s.drafts);
  for (const [peer, mode] of s.composing) {
    if (mode.kind !== 'edit') continue;
    if (mode.draft) out.set(peer, mode.draft);
    else out.delete(peer);
  }
  return out;
}

/**
 * While a user is signed in, follows the store for what the client must be told (whose
 * presence to subscribe to) and what must be saved for the next visit (unread counts, read
 * marks, recent messages, drafts), also at the moment the page is hidden or left.
 * Returns the function that stops following.
 */
export function watchSession(user: string): () => void {
  const unsubscribers: (() => void)[] = [];
  let lastPeers = '';
  let lastConversations: unknown = null;
  let lastDrafts: unknown = null;
  const saveCounts = saver(async () => {
    const st = useChatStore.getState();
    if (st.me !== user) return;
    const unread = new Map<string, number>();
    for (const conv of st.conversations.values()) if (conv.unread > 0) unread.set(conv.peer, conv.unread);
    await saveUnread(storage(), user, { unread, readMarks: new Map(st.readMarks) });
    await saveRecent(storage(), user, st.conversations.values());
  }, DEFAULTS.saveDelayMs);
  // Drafts are what the user is typing right now: written almost at once.
  const saveDraftsSoon = saver(async () => {
    const st = useChatStore.getState();
    if (st.me === user) await saveDrafts(storage(), user, keptDrafts(st));
  }, DEFAULTS.draftSaveDelayMs);
  // Leaving or hiding the page (reload, tab closed, phone locked): write what is pending now.
  const flushAll = () => {
    saveCounts.flush();
    saveDraftsSoon.flush();
  };
  const leaving = () => {
    flushAll();
    const st = useChatStore.getState();
    if (st.me === user) keepDraftsForReload(user, keptDrafts(st));
  };
  addEventListener('pagehide', leaving);
  document.addEventListener('visibilitychange', flushAll);
  unsubscribers.push(() => {
    // The session ends: drafts are kept for this user, the rest is about to be removed.
    saveCounts.cancel();
    saveDraftsSoon.flush();
    removeEventListener('pagehide', leaving);
    document.removeEventListener('visibilitychange', flushAll);
  });
  const follow = (s: ChatState) => {
    const client = activeClient();
    if (s.auth !== 'signed-in' || !client || s.me !== user) return;
    // Presence: everyone we have a conversation with.
    const peers = selectPresencePeers(s).slice(0, LIMITS.presenceMaxUsers);
    const joined = peers.join(',');
    if (joined !== lastPeers && peers.length > 0) {
      lastPeers = joined;
      client.subscribePresence(peers);
    }
    if (s.conversations !== lastConversations) {
      lastConversations = s.conversations;
      saveCounts.soon();
    }
    if (s.drafts !== lastDrafts) {
      lastDrafts = s.drafts;
      saveDraftsSoon.soon();
    }
  };
  unsubscribers.push(useChatStore.subscribe(follow));
  follow(useChatStore.getState());
  return () => {
    for (const off of unsubscribers) off();
  };
}
