/*
 * One object holds the store's message transitions (about 350 lines): they share the
 * invariants of ChatState (ordering, dedup, read marks, the stretch and its tail), which are
 * easier to keep in one place. The chat features' own transitions are in feature-actions.ts.
 */
import type { ConversationItem, MsgFrame } from '@pigeon/protocol';
import { DEFAULTS } from '../config';
import type { Language } from '../i18n/strings';
import { mapWith, mapWithout } from '../lib/maps';
import { appActions } from './app-actions';
import {
  type ConnectionStatus,
  type Conversation,
  emptyConversation,
  initialState,
  type ReadMark,
  useChatStore,
} from './chat-store';
import {
  applyPeer,
  type Fresh,
  historySeqs,
  isViewing,
  markThrough,
  type PreparedEntry,
  prepareIncoming,
} from './incoming';
import { type ChatMessage, fromFrame, mergeMessages, messageKey, peerOf } from './message-model';
import { seenCovers } from './updates';

const set = useChatStore.setState;
const get = useChatStore.getState;

function updateConversation(peer: string, change: (c: Conversation) => Conversation): void {
  const s = get();
  const c = s.conversations.get(peer) ?? emptyConversation(peer);
  set({ conversations: mapWith(s.conversations, peer, change(c)) });
}

/**
 * State transitions. Each is a plain function of the store, exported for the client bridge
 * and the UI and tested on their own; none of them touches the network.
 */
export const chatActions = {
  ...appActions,

  reset(language?: Language): void {
    const s = get();
    set(initialState(language ?? s.language, s.preferences), true);
  },

  /**
   * `recent`: the newest messages kept from the last visit (saved-state.ts), shown until the
   * server's answers replace them; `hasMore` stays unknown, so history is fetched again.
   */
  signedIn(
    me: string,
    saved?: { readMarks?: ReadonlyMap<string, ReadMark>; unread?: ReadonlyMap<string, number> },
    drafts: ReadonlyMap<string, string> = new Map(),
    recent: ReadonlyMap<string, readonly ChatMessage[]> = new Map(),
  ): void {
    const conversations = new Map<string, Conversation>();
    for (const [peer, list] of recent) {
      const first = historySeqs(list.length);
      const messages = mergeMessages(
        [],
        list.map((m, i) => ({ ...m, seq: first + i })),
        true,
      );
      conversations.set(peer, { ...emptyConversation(peer), messages });
    }
    for (const [peer, unread] of saved?.unread ?? []) {
      const c = conversations.get(peer) ?? emptyConversation(peer);
      if (unread > 0) conversations.set(peer, { ...c, unread });
    }
    // A draft's conversation is listed (marked "Draft:") even before its history is fetched.
    for (const peer of drafts.keys())
      if (!conversations.has(peer)) conversations.set(peer, emptyConversation(peer));
    set({
      me,
      auth: 'signed-in',
      authNotice: null,
      conversations,
      readMarks: saved?.readMarks ?? new Map(),
      drafts,
      activePeer: null,
      view: 'chats',
      presence: new Map(),
      typingUntil: new Map(),
      unsent: 0,
    });
  },

  setStatus(status: ConnectionStatus): void {
    const cur = get().status;
    if (cur.kind === status.kind && cur.nextAttemptAt === status.nextAttemptAt) return;
    set({ status });
  },

  /** Whether the tab is visible; becoming visible marks the open conversation read. */
  setVisible(visible: boolean): void {
    appActions.setVisible(visible);
    if (visible) chatActions.markRead();
  },

  setUnsent(unsent: number): void {
    if (get().unsent !== unsent) set({ unsent });
  },

  /** The composer's text for `peer` ('' removes the draft). */
  setDraft(peer: string, text: string): void {
    const s = get();
    if ((s.drafts.get(peer) ?? '') === text) return;
    set({ drafts: text === '' ? mapWithout(s.drafts, peer) : mapWith(s.drafts, peer, text) });
  },

  /** Opens a conversation (or closes the open one with null) and marks it read. */
  open(peer: string | null): void {
    const s = get();
    if (peer === null) {
      if (s.activePeer !== null) set({ activePeer: null });
      return;
    }
    if (!s.conversations.has(peer)) {
      set({ conversations: mapWith(s.conversations, peer, emptyConversation(peer)) });
    }
    set({ activePeer: peer });
    chatActions.markRead();
  },

  /**
   * Without the `read` feature: everything in the open conversation counts as read, if the
   * tab is visible. With it, only what was on screen does, and the server keeps the count
   * (the log reports what it shows: see feature-actions.ts).
   */
  markRead(): void {
    const s = get();
    const peer = s.activePeer;
    if (!peer || !s.visible || s.features.has('read')) return;
    const c = s.conversations.get(peer);
    if (!c) return;
    const old = s.readMarks.get(peer);
    let mark = old;
    const last = c.messages[c.messages.length - 1];
    if (last?.confirmed) mark = markThrough(mark, last);
    if (c.unread === 0 && mark === old) return;
    set({
      conversations: mapWith(s.conversations, peer, { ...c, unread: 0 }),
      readMarks: mark ? mapWith(s.readMarks, peer, mark) : s.readMarks,
    });
  },

  /**
   * Mailbox entries from the live stream or the backlog replay, in cursor order, checked one
   * by one (prepareIncoming). A message from someone else that is new here counts as unread
   * unless its conversation is open in a visible tab. Returns the entries it could not apply:
   * one that fails leaves the others applied.
   */
  receive(frames: readonly MsgFrame[]): MsgFrame[] {
    const me = get().me;
    if (!me || frames.length === 0) return [];
    const failed: MsgFrame[] = [];
    const prepared: PreparedEntry[] = [];
    for (const f of frames) {
      try {
        prepared.push(prepareIncoming(me, f));
      } catch {
        failed.push(f);
      }
    }
    for (const bad of chatActions.receivePrepared(prepared)) {
      const frame = frames.find((f) => f.from === bad.message.from && f.id === bad.message.id);
      if (frame) failed.push(frame);
    }
    return failed;
  },

  /**
   * Applies entries already checked by prepareIncoming, in their order; `fresh` collects, per
   * conversation, the messages from the peer that are new here and arrived out of view.
   */
  receivePrepared(entries: readonly PreparedEntry[], fresh?: Map<string, Fresh>): PreparedEntry[] {
    const s = get();
    if (!s.me || entries.length === 0) return [];
    const byPeer = new Map<string, ChatMessage[]>();
    for (const { peer, message } of entries) {
      const list = byPeer.get(peer);
      if (list) list.push(message);
      else byPeer.set(peer, [message]);
    }
    const out = { conversations: new Map(s.conversations), readMarks: new Map(s.readMarks) };
    let typingUntil = s.typingUntil;
    const failed: PreparedEntry[] = [];
    for (const [peer, list] of byPeer) {
      // applyPeer writes to `out` only once it is done, so a throw leaves this peer as it was:
      // then each entry is tried alone, and only the ones that throw again are left out.
      try {
        if (applyPeer(s, peer, list, out, fresh)) typingUntil = mapWithout(typingUntil, peer);
      } catch {
        for (const message of list) {
          try {
            if (applyPeer(s, peer, [message], out, fresh)) typingUntil = mapWithout(typingUntil, peer);
          } catch {
            failed.push({ peer, message });
          }
        }
      }
    }
    set({ conversations: out.conversations, readMarks: out.readMarks, typingUntil });
    return failed;
  },

  /** My own outbox as the client reports it: new, retried, sent, delivered or failed messages. */
  outbox(items: readonly ChatMessage[]): void {
    const s = get();
    const me = s.me;
    if (!me || items.length === 0) return;
    const conversations = new Map(s.conversations);
    for (const m of items) {
      const peer = peerOf(me, m);
      const c = conversations.get(peer) ?? emptyConversation(peer);
      // Already in the stretch shown (confirmations of what it holds), else with the newest.
      const inStretch = !c.hasNewer || c.messages.some((x) => x.key === m.key);
      conversations.set(
        peer,
        inStretch
          ? { ...c, messages: mergeMessages(c.messages, [m]) }
          : { ...c, tail: mergeMessages(c.tail, [m]) },
      );
    }
    set({ conversations });
  },

  /** A message I discarded from the outbox disappears from the log. */
  removeOutbox(peer: string, key: string): void {
    const c = get().conversations.get(peer);
    if (!c) return;
    const messages = c.messages.filter((m) => m.key !== key || m.confirmed);
    const tail = c.tail.filter((m) => m.key !== key || m.confirmed);
    if (messages.length === c.messages.length && tail.length === c.tail.length) return;
    updateConversation(peer, () => ({ ...c, messages, tail }));
  },

  /** A device of `to` acknowledged my message `id` (✓✓). */
  receipt(id: string, to: string): void {
    const s = get();
    const me = s.me;
    const c = s.conversations.get(to);
    if (!me || !c) return;
    const key = messageKey(me, id);
    // A receipt proves the server stored it, even if its `sent` never reached us.
    const deliver = (list: ChatMessage[]) => {
      const at = list.findIndex((m) => m.key === key);
      const m = list[at];
      if (!m || m.state === 'delivered' || m.state === 'read') return list;
      const out = list.slice();
      // The peer's receipt got here first: it covers this message now that it was delivered.
      const state = seenCovers(list, at, c.seenUpto) ? 'read' : 'delivered';
      out[at] = { ...m, state, confirmed: true, errorCode: undefined };
      return out;
    };
    const messages = deliver(c.messages);
    const tail = deliver(c.tail);
    if (messages === c.messages && tail === c.tail) return;
    updateConversation(to, () => ({ ...c, messages, tail }));
  },

  historyLoading(peer: string): void {
    updateConversation(peer, (c) => ({ ...c, loading: true, loadError: false }));
  },

  historyFailed(peer: string): void {
    if (!get().conversations.has(peer)) return;
    updateConversation(peer, (c) => ({ ...c, loading: false, loadError: true }));
  },

  /**
   * A page of history (oldest first). `older` pages come from scrolling up and decide
   * whether more exists; the newest page only decides it when we had nothing older yet.
   * History is old news: it never changes unread counts.
   */
  history(peer: string, items: readonly MsgFrame[], more: boolean, older: boolean): void {
    const s = get();
    const me = s.me;
    if (!me) return;
    const first = historySeqs(items.length);
    const page = items.map((f, i) => fromFrame(me, f, first + i));
    const c0 = s.conversations.get(peer);
    if (!older && c0?.hasNewer) {
      // The newest page while a stretch in the middle is shown: it belongs with the newest.
      updateConversation(peer, (c) => ({ ...c, tail: mergeMessages(c.tail, page), loading: false }));
      return;
    }
    updateConversation(peer, (c) => ({
      ...c,
      messages: mergeMessages(c.messages, page, older),
      hasMore: older || c.hasMore === null ? more : c.hasMore,
      loading: false,
      loadError: false,
    }));
    if (isViewing(s, peer)) chatActions.markRead();
  },

  /** The sidebar's rows from the server: each peer's newest message. */
  conversationsList(items: readonly ConversationItem[]): void {
    const s = get();
    const me = s.me;
    if (!me) return;
    const conversations = new Map(s.conversations);
    for (const item of items) {
      const c = conversations.get(item.with) ?? emptyConversation(item.with);
      const last = fromFrame(me, item.last, historySeqs(1));
      const readUpto = item.readUpto === undefined ? c.readUpto : item.readUpto;
      conversations.set(
        item.with,
        c.hasNewer
          ? { ...c, tail: mergeMessages(c.tail, [last]), readUpto }
          : { ...c, messages: mergeMessages(c.messages, [last]), readUpto },
      );
    }
    set({ conversations });
  },

  /** After a gap the local copy may have holes: refetch each conversation's newest page. */
  forgetHistory(): void {
    const conversations = new Map<string, Conversation>();
    for (const [peer, c] of get().conversations) {
      // A stretch in the middle is dropped for the newest messages known; the page refills it.
      const messages = c.hasNewer ? c.tail : c.messages;
      conversations.set(peer, { ...c, messages, tail: [], hasNewer: false, hasMore: null });
    }
    set({ conversations });
  },

  /** Without a connection nobody's presence is known: no green dots until it is back. */
  forgetPresence(): void {
    if (get().presence.size > 0) set({ presence: new Map() });
  },

  presence(user: string, online: boolean): void {
    const s = get();
    if (s.presence.get(user) === online) return;
    set({ presence: mapWith(s.presence, user, online) });
  },

  typing(from: string, now: number = Date.now()): void {
    set({ typingUntil: mapWith(get().typingUntil, from, now + DEFAULTS.typingShowMs) });
  },

  /** Builds a new map: the old state object is never changed, so selectors see the change. */
  clearTyping(from: string): void {
    const s = get();
    const typingUntil = mapWithout(s.typingUntil, from);
    if (typingUntil !== s.typingUntil) set({ typingUntil });
  },
};
