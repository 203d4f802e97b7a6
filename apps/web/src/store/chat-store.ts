import type { MsgFrame } from '@pigeon/protocol';
import { create } from 'zustand';
import { DEFAULTS } from '../config';
import type { Language, StringKey } from '../i18n/strings';
import { type ChatMessage, fromFrame, mergeMessages, peerOf } from './message-model';

/** The connection as the header shows it; mirrors the client's status. */
export type ConnectionKind =
  | 'connecting'
  | 'syncing'
  | 'online'
  | 'reconnecting'
  | 'offline'
  | 'unauthorized';
export interface ConnectionStatus {
  kind: ConnectionKind;
  /** With `reconnecting`: when the next attempt starts (ms since the epoch). */
  nextAttemptAt?: number | undefined;
}

export interface Conversation {
  peer: string;
  /** Ordered oldest first, one entry per message (see mergeMessages). */
  messages: ChatMessage[];
  unread: number;
  /** null until the newest page of history has been fetched; then whether older exists. */
  hasMore: boolean | null;
  loading: boolean;
  loadError: boolean;
}

/**
 * What has been counted as unread (or read) per peer, so that a message the client reports
 * again after a reload is not counted twice: everything up to `ts`, and at exactly `ts`
 * the messages in `keys`.
 */
export interface ReadMark {
  ts: number;
  keys: string[];
}

export type AuthPhase = 'restoring' | 'signed-out' | 'signed-in';

export interface ChatState {
  me: string | null;
  auth: AuthPhase;
  /** A notice for the sign-in screen, e.g. that the session expired. */
  authNotice: StringKey | null;
  status: ConnectionStatus;
  language: Language;
  conversations: Record<string, Conversation>;
  activePeer: string | null;
  /** The tab is visible: messages in the open conversation count as read only then. */
  visible: boolean;
  presence: Record<string, boolean>;
  /** peer → until when (ms since the epoch) their typing indicator shows. */
  typingUntil: Record<string, number>;
  readMarks: Record<string, ReadMark>;
}

export function initialState(language: Language = 'en'): ChatState {
  return {
    me: null,
    auth: 'restoring',
    authNotice: null,
    status: { kind: 'offline' },
    language,
    conversations: {},
    activePeer: null,
    visible: true,
    presence: {},
    typingUntil: {},
    readMarks: {},
  };
}

export const useChatStore = create<ChatState>()(() => initialState());

const set = useChatStore.setState;
const get = useChatStore.getState;

/**
 * Arrival numbers (see ChatMessage.seq): live entries count up from 0, history counts down,
 * so on equal timestamps history sorts before what arrived live, and each page keeps its order.
 */
let seqLive = 0;
let seqHistory = 0;
function historySeqs(count: number): number {
  seqHistory -= count;
  return seqHistory;
}

function emptyConversation(peer: string): Conversation {
  return { peer, messages: [], unread: 0, hasMore: null, loading: false, loadError: false };
}

function isViewing(s: ChatState, peer: string): boolean {
  return s.activePeer === peer && s.visible;
}

function markThrough(mark: ReadMark | undefined, m: ChatMessage): ReadMark {
  if (!mark || m.ts > mark.ts) return { ts: m.ts, keys: [m.key] };
  if (m.ts === mark.ts && !mark.keys.includes(m.key)) return { ts: m.ts, keys: [...mark.keys, m.key] };
  return mark;
}

function counted(mark: ReadMark | undefined, m: ChatMessage): boolean {
  if (!mark) return false;
  return m.ts < mark.ts || (m.ts === mark.ts && mark.keys.includes(m.key));
}

/**
 * State transitions. Each is a plain function of the store, exported for the client bridge
 * and the UI and tested on their own; none of them touches the network.
 */
export const chatActions = {
  reset(language?: Language): void {
    set(initialState(language ?? get().language), true);
  },

  signedIn(
    me: string,
    saved?: { readMarks?: Record<string, ReadMark>; unread?: Record<string, number> },
  ): void {
    const conversations: Record<string, Conversation> = {};
    for (const [peer, unread] of Object.entries(saved?.unread ?? {})) {
      if (unread > 0) conversations[peer] = { ...emptyConversation(peer), unread };
    }
    set({
      me,
      auth: 'signed-in',
      authNotice: null,
      conversations,
      readMarks: saved?.readMarks ?? {},
      activePeer: null,
      presence: {},
      typingUntil: {},
    });
  },

  signedOut(notice: StringKey | null = null): void {
    const { language, visible } = get();
    set({ ...initialState(language), auth: 'signed-out', authNotice: notice, visible }, true);
  },

  setStatus(status: ConnectionStatus): void {
    const cur = get().status;
    if (cur.kind === status.kind && cur.nextAttemptAt === status.nextAttemptAt) return;
    set({ status });
  },

  setLanguage(language: Language): void {
    set({ language });
  },

  setVisible(visible: boolean): void {
    if (get().visible === visible) return;
    set({ visible });
    if (visible) chatActions.markRead();
  },

  /** Opens a conversation (or closes the open one with null) and marks it read. */
  open(peer: string | null): void {
    const s = get();
    if (peer === null) {
      if (s.activePeer !== null) set({ activePeer: null });
      return;
    }
    if (!s.conversations[peer]) {
      set({ conversations: { ...s.conversations, [peer]: emptyConversation(peer) } });
    }
    set({ activePeer: peer });
    chatActions.markRead();
  },

  /** Everything in the open conversation counts as read, if the tab is visible. */
  markRead(): void {
    const s = get();
    const peer = s.activePeer;
    if (!peer || !s.visible) return;
    const c = s.conversations[peer];
    if (!c) return;
    let mark = s.readMarks[peer];
    const last = c.messages[c.messages.length - 1];
    if (last?.confirmed) mark = markThrough(mark, last);
    if (c.unread === 0 && mark === s.readMarks[peer]) return;
    set({
      conversations: { ...s.conversations, [peer]: { ...c, unread: 0 } },
      readMarks: mark ? { ...s.readMarks, [peer]: mark } : s.readMarks,
    });
  },

  /**
   * Mailbox entries from the live stream or the backlog replay, in cursor order. A message
   * from someone else that is new here counts as unread unless its conversation is open in a
   * visible tab.
   */
  receive(frames: readonly MsgFrame[]): void {
    const s = get();
    const me = s.me;
    if (!me || frames.length === 0) return;
    const byPeer = new Map<string, ChatMessage[]>();
    for (const f of frames) {
      const m = fromFrame(me, f, ++seqLive);
      const peer = peerOf(me, f);
      const list = byPeer.get(peer);
      if (list) list.push(m);
      else byPeer.set(peer, [m]);
    }
    const conversations = { ...s.conversations };
    const readMarks = { ...s.readMarks };
    let typingUntil = s.typingUntil;
    for (const [peer, list] of byPeer) {
      const c = conversations[peer] ?? emptyConversation(peer);
      const known = new Set(c.messages.map((m) => m.key));
      let unread = c.unread;
      let mark = readMarks[peer];
      const viewing = isViewing(s, peer);
      for (const m of list) {
        if (m.state !== 'received') continue;
        // They sent a message, so they stopped typing it.
        if (peer in typingUntil) {
          typingUntil = { ...typingUntil };
          delete typingUntil[peer];
        }
        if (known.has(m.key) || counted(mark, m)) continue;
        known.add(m.key);
        if (!viewing) unread++;
        mark = markThrough(mark, m);
      }
      if (viewing) {
        const last = list[list.length - 1];
        if (last) mark = markThrough(mark, last);
      }
      if (mark) readMarks[peer] = mark;
      conversations[peer] = { ...c, messages: mergeMessages(c.messages, list), unread };
    }
    set({ conversations, readMarks, typingUntil });
  },

  /** My own outbox as the client reports it: new, retried, sent, delivered or failed messages. */
  outbox(items: readonly ChatMessage[]): void {
    const s = get();
    const me = s.me;
    if (!me || items.length === 0) return;
    const conversations = { ...s.conversations };
    for (const m of items) {
      const peer = peerOf(me, m);
      const c = conversations[peer] ?? emptyConversation(peer);
      conversations[peer] = { ...c, messages: mergeMessages(c.messages, [m]) };
    }
    set({ conversations });
  },

  /** A message I discarded from the outbox disappears from the log. */
  removeOutbox(peer: string, key: string): void {
    const s = get();
    const c = s.conversations[peer];
    if (!c) return;
    const messages = c.messages.filter((m) => m.key !== key || m.confirmed);
    if (messages.length === c.messages.length) return;
    set({ conversations: { ...s.conversations, [peer]: { ...c, messages } } });
  },

  /** A device of `to` acknowledged my message `id` (✓✓). */
  receipt(id: string, to: string): void {
    const s = get();
    const me = s.me;
    if (!me) return;
    const c = s.conversations[to];
    if (!c) return;
    const key = `${me}\u0000${id}`;
    const at = c.messages.findIndex((m) => m.key === key);
    if (at < 0) return;
    const m = c.messages[at]!;
    if (m.state === 'delivered') return;
    const messages = c.messages.slice();
    // A receipt proves the server stored it, even if its `sent` never reached us.
    messages[at] = { ...m, state: 'delivered', confirmed: true, errorCode: undefined };
    set({ conversations: { ...s.conversations, [to]: { ...c, messages } } });
  },

  historyLoading(peer: string): void {
    const s = get();
    const c = s.conversations[peer] ?? emptyConversation(peer);
    set({ conversations: { ...s.conversations, [peer]: { ...c, loading: true, loadError: false } } });
  },

  historyFailed(peer: string): void {
    const s = get();
    const c = s.conversations[peer];
    if (!c) return;
    set({ conversations: { ...s.conversations, [peer]: { ...c, loading: false, loadError: true } } });
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
    const c = s.conversations[peer] ?? emptyConversation(peer);
    const first = historySeqs(items.length);
    const messages = mergeMessages(
      c.messages,
      items.map((f, i) => fromFrame(me, f, first + i)),
      older,
    );
    const hasMore = older || c.hasMore === null ? more : c.hasMore;
    set({
      conversations: {
        ...s.conversations,
        [peer]: { ...c, messages, hasMore, loading: false, loadError: false },
      },
    });
    if (isViewing(s, peer)) chatActions.markRead();
  },

  /** The sidebar's rows from the server: each peer's newest message. */
  conversationsList(items: readonly { with: string; last: MsgFrame }[]): void {
    const s = get();
    const me = s.me;
    if (!me) return;
    const conversations = { ...s.conversations };
    for (const item of items) {
      const c = conversations[item.with] ?? emptyConversation(item.with);
      conversations[item.with] = {
        ...c,
        messages: mergeMessages(c.messages, [fromFrame(me, item.last, historySeqs(1))]),
      };
    }
    set({ conversations });
  },

  /** After a gap the local copy may have holes: refetch each conversation's newest page. */
  forgetHistory(): void {
    const s = get();
    const conversations: Record<string, Conversation> = {};
    for (const [peer, c] of Object.entries(s.conversations)) conversations[peer] = { ...c, hasMore: null };
    set({ conversations });
  },

  /** Without a connection nobody's presence is known: no green dots until it is back. */
  forgetPresence(): void {
    if (Object.keys(get().presence).length > 0) set({ presence: {} });
  },

  presence(user: string, online: boolean): void {
    const s = get();
    if (s.presence[user] === online) return;
    set({ presence: { ...s.presence, [user]: online } });
  },

  typing(from: string, now: number = Date.now()): void {
    const s = get();
    set({ typingUntil: { ...s.typingUntil, [from]: now + DEFAULTS.typingShowMs } });
  },

  clearTyping(from: string): void {
    const s = get();
    if (!(from in s.typingUntil)) return;
    const typingUntil = s.typingUntil;
    delete typingUntil[from];
    set({ typingUntil });
  },
};
