/*
 * Where the log stands, asked of the client (issue 10): read marks from what was on screen,
 * opening a conversation at its first unread message or at a given message (a search result,
 * a quoted original) with the history around it, and scrolling a stretch opened in the middle
 * down to the newest. The store's side is feature-actions.ts.
 */
import type { Feature, MessageRef, MsgFrame } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import { navigateTo } from '../lib/navigation';
import { chatActions } from './chat-actions';
import { type Conversation, useChatStore } from './chat-store';
import { openConversation } from './conversation-actions';
import { featureActions } from './feature-actions';
import type { ChatMessage } from './message-model';
import { activeClient, flushIncoming } from './runtime';

const get = useChatStore.getState;
const PAGE = DEFAULTS.historyPageSize;
/** Messages loaded above a position opened in the middle, so it does not sit at the very top. */
const CONTEXT = DEFAULTS.contextAbove;

function has(feature: Feature): boolean {
  return get().features.has(feature);
}

// ---------------------------------------------------------------- read marks

/**
 * The log had the messages of `peer` up to `m` on screen in a visible tab: they are read. Only
 * sent when it covers a message from the peer not yet read, so scrolling about in what was
 * read already sends nothing; the client sends at most one mark a second per conversation.
 */
export function markSeen(peer: string, m: ChatMessage): void {
  const s = get();
  const client = activeClient();
  const c = s.conversations.get(peer);
  if (!client || !c || !s.visible || !has('read') || !m.cursor || s.positioning === peer) return;
  const at = c.messages.findIndex((x) => x.key === m.key);
  if (at < 0) return;
  let covers = false;
  for (let i = 0; i <= at; i++) {
    const x = c.messages[i]!;
    if (x.from !== s.me && x.confirmed && x.read !== true) {
      covers = true;
      break;
    }
  }
  if (!covers) return;
  featureActions.readLocally(peer, m.cursor);
  client.markRead(peer, m.cursor).catch(() => undefined); // a refused mark changes nothing
}

// ---------------------------------------------------------------- positions

/** The first message from the peer that my read mark does not cover, in what the log holds. */
export function firstUnread(c: Conversation, me: string): ChatMessage | undefined {
  return c.messages.find((m) => m.from !== me && m.from !== m.to && m.confirmed && m.read !== true);
}

/**
 * Opens the conversation at its first unread message under an "N unread messages" line: the
 * oldest unread page forwards from my read mark (`history {after: readUpto}`) with a few older
 * messages above it, unless what the log holds already reaches back to it.
 */
export async function openAtFirstUnread(peer: string): Promise<void> {
  featureActions.setPositioning(peer);
  try {
    await placeAtFirstUnread(peer);
  } finally {
    if (get().positioning === peer) featureActions.setPositioning(null);
  }
}

async function placeAtFirstUnread(peer: string): Promise<void> {
  const client = activeClient();
  const s = get();
  const c = s.conversations.get(peer);
  if (!client || !c || !s.me || c.unread === 0) return;
  const count = c.unread;
  let first = c.hasNewer ? undefined : firstUnread(c, s.me);
  const reachesBack =
    first !== undefined &&
    (c.hasMore === false || (c.readUpto !== null && c.messages.some((m) => m.cursor === c.readUpto)));
  if (!reachesBack) {
    if (c.readUpto === null || !has('paging')) {
      // Nothing read yet (or no forward paging): from the newest page back.
      await loadBackUntilUnread(peer, count);
    } else {
      await loadAround(peer, { after: c.readUpto });
    }
    const now = get();
    const loaded = now.conversations.get(peer);
    if (!loaded || now.activePeer !== peer || !now.me) return;
    first = firstUnread(loaded, now.me);
  }
  if (!first) return;
  featureActions.setDivider({ peer, key: first.key, count });
  featureActions.focus(peer, first.key);
}

async function loadBackUntilUnread(peer: string, count: number): Promise<void> {
  const me = get().me;
  if (!me) return;
  // Bounded: the unread ones fit in this many pages (and a page may hold fewer than asked).
  const pages = Math.ceil(count / PAGE) + 2;
  for (let i = 0; i < pages; i++) {
    const c = get().conversations.get(peer);
    if (!c) return;
    const unreadHeld = c.messages.filter((m) => m.from === peer && m.from !== me && m.read !== true).length;
    if (c.hasMore === false || (c.hasMore !== null && unreadHeld >= count)) return;
    await (c.hasMore === null ? loadNewestPage(peer) : loadOlderPage(peer));
  }
}

async function loadNewestPage(peer: string): Promise<void> {
  const client = activeClient();
  if (!client) return;
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { limit: PAGE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, false);
  } catch {
    chatActions.historyFailed(peer);
  }
}

async function loadOlderPage(peer: string): Promise<void> {
  const client = activeClient();
  const c = get().conversations.get(peer);
  const before = c?.messages.find((m) => m.cursor)?.cursor;
  if (!client || !before) return;
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { before, limit: PAGE });
    flushIncoming();
    chatActions.history(peer, page.items, page.more, true);
  } catch {
    chatActions.historyFailed(peer);
  }
}

/**
 * Loads a stretch around a position: the page forwards from `after` (exclusive), then a few
 * messages before the first of it (which brings the entry at `after` itself). An empty
 * forward page means `after` is the newest entry: the newest page then.
 */
async function loadAround(peer: string, at: { after: string }): Promise<boolean> {
  const client = activeClient();
  if (!client) return false;
  chatActions.historyLoading(peer);
  try {
    const forward = await client.history(peer, { after: at.after, limit: PAGE });
    const first = forward.items[0];
    if (!first) {
      const newest = await client.history(peer, { limit: PAGE });
      flushIncoming();
      featureActions.stretchLoaded(peer, newest.items, newest.more, false);
      return true;
    }
    const above = await client.history(peer, { before: first.cursor, limit: CONTEXT });
    flushIncoming();
    featureActions.stretchLoaded(peer, [...above.items, ...forward.items], above.more, forward.more);
    return true;
  } catch {
    chatActions.historyFailed(peer);
    return false;
  }
}

/** Scrolling down a stretch that stops short of the newest message: the next page forwards. */
export async function loadNewer(peer: string): Promise<void> {
  const client = activeClient();
  const c = get().conversations.get(peer);
  if (!client || !c?.hasNewer || c.loading) return;
  const after = [...c.messages].reverse().find((m) => m.cursor)?.cursor;
  if (!after) return jumpToLatest(peer);
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { after, limit: PAGE });
    flushIncoming();
    featureActions.newerLoaded(peer, page.items, page.more);
  } catch {
    chatActions.historyFailed(peer);
  }
}

/** Back to the newest messages from a stretch in the middle. */
export async function jumpToLatest(peer: string): Promise<void> {
  const client = activeClient();
  const c = get().conversations.get(peer);
  if (!client || !c?.hasNewer) return;
  chatActions.historyLoading(peer);
  try {
    const page = await client.history(peer, { limit: PAGE });
    flushIncoming();
    featureActions.latestLoaded(peer, page.items, page.more);
  } catch {
    chatActions.historyFailed(peer);
  }
}

/**
 * Shows a message in its conversation: opens it, loads the stretch around it when the log
 * does not hold it (a search result, a quoted original far up), and brings it into view.
 * `cursor`: its entry in my mailbox; without one (retention removed it) it cannot be found.
 */
export async function showMessage(
  peer: string,
  ref: MessageRef,
  cursor: string | undefined,
): Promise<boolean> {
  // This places the log itself: opening the conversation must not also go to its first unread.
  featureActions.setPositioning(peer);
  try {
    return await placeAtMessage(peer, ref, cursor);
  } finally {
    if (get().positioning === peer) featureActions.setPositioning(null);
  }
}

async function placeAtMessage(peer: string, ref: MessageRef, cursor: string | undefined): Promise<boolean> {
  const key = `${ref.from}\u0000${ref.id}`;
  if (get().activePeer !== peer) {
    navigateTo(peer);
    // The route applies on `hashchange`; the conversation is opened here at once all the same.
    openConversation(peer);
  }
  const held = () =>
    get()
      .conversations.get(peer)
      ?.messages.some((m) => m.key === key) === true;
  if (!held() && !has('paging') && cursor) {
    // No forward paging: page back from the newest until it is there (bounded).
    if (get().conversations.get(peer)?.hasMore === null) await loadNewestPage(peer);
    for (let i = 0; i < DEFAULTS.searchBackPages && !held(); i++) {
      if (get().conversations.get(peer)?.hasMore !== true) break;
      await loadOlderPage(peer);
    }
  }
  if (!held()) {
    if (!cursor || !has('paging')) {
      featureActions.toast('originalUnavailable');
      return false;
    }
    const client = activeClient();
    if (!client) return false;
    chatActions.historyLoading(peer);
    try {
      // The page after it starts just below it; the page before that page's first entry ends with it.
      const forward = await client.history(peer, { after: cursor, limit: PAGE });
      const below = forward.items[0];
      const above = below
        ? await client.history(peer, { before: below.cursor, limit: CONTEXT })
        : await client.history(peer, { limit: PAGE });
      flushIncoming();
      const items: MsgFrame[] = below ? [...above.items, ...forward.items] : above.items;
      featureActions.stretchLoaded(peer, items, above.more, below ? forward.more : false);
    } catch {
      chatActions.historyFailed(peer);
      featureActions.toast('loadFailed');
      return false;
    }
    if (!held()) {
      featureActions.toast('originalUnavailable');
      return false;
    }
  }
  featureActions.focus(peer, key);
  return true;
}
