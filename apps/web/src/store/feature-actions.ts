/*
 * (About 300 lines: one object, like chat-actions.ts, so every transition of a feature's state
 * is found in one place.) The store's transitions for the chat features (PROTOCOL.md "Extensions"): updates, the
 * server's read state and settings, the composer's reply/edit modes, the unread divider, a
 * stretch of history opened in the middle (a search result, the first unread message), and
 * search. Pure like chat-actions.ts: none of them touches the network.
 */
import type { Feature, MsgFrame, Range, UpdateFrame } from '@pigeon/protocol';
import type { StringKey } from '../i18n/strings';
import { mapWith, mapWithout } from '../lib/maps';
import {
  type ComposeMode,
  type Conversation,
  emptyConversation,
  NO_SEARCH,
  type SearchResult,
  type SearchState,
  useChatStore,
} from './chat-store';
import { historySeqs } from './incoming';
import { type ChatMessage, fromFrame, mergeMessages, messageKey } from './message-model';
import { applyToConversation, applyToMessage } from './updates';

const set = useChatStore.setState;
const get = useChatStore.getState;

function putConversation(peer: string, change: (c: Conversation) => Conversation): void {
  const s = get();
  const c = s.conversations.get(peer) ?? emptyConversation(peer);
  const next = change(c);
  if (next !== c || !s.conversations.has(peer)) set({ conversations: mapWith(s.conversations, peer, next) });
}

function frames(me: string, items: readonly MsgFrame[]): ChatMessage[] {
  const first = historySeqs(items.length);
  return items.map((f, i) => fromFrame(me, f, first + i));
}

let tokens = 0;

/** One read state per conversation, as the client keeps it from the server (`read`). */
export interface ServerReadState {
  unread: number;
  readUpto: string | null;
}

export const featureActions = {
  setFeatures(features: readonly Feature[]): void {
    const cur = get().features;
    if (cur.size === features.length && features.every((f) => cur.has(f))) return;
    set({ features: new Set(features) });
  },

  /** The server's unread counts and read marks (`read`): the same on every device of the user. */
  setReadStates(states: Readonly<Record<string, ServerReadState>>): void {
    const s = get();
    let conversations: Map<string, Conversation> | null = null;
    for (const [peer, st] of Object.entries(states)) {
      const c = (conversations ?? s.conversations).get(peer) ?? emptyConversation(peer);
      if (c.unread === st.unread && c.readUpto === st.readUpto && s.conversations.has(peer)) continue;
      conversations ??= new Map(s.conversations);
      conversations.set(peer, { ...c, unread: st.unread, readUpto: st.readUpto });
    }
    if (conversations) set({ conversations });
  },

  setSettings(settings: { readReceipts: boolean | null; blocked: readonly string[] | null }): void {
    const s = get();
    const sameBlocked =
      s.blocked === settings.blocked ||
      (s.blocked !== null &&
        settings.blocked !== null &&
        s.blocked.length === settings.blocked.length &&
        s.blocked.every((u, i) => u === settings.blocked?.[i]));
    if (s.readReceipts === settings.readReceipts && sameBlocked) return;
    set({ readReceipts: settings.readReceipts, blocked: sameBlocked ? s.blocked : settings.blocked });
  },

  /** An update entry, in mailbox order with the messages (see runtime.ts). */
  applyUpdate(u: UpdateFrame): void {
    const s = get();
    const me = s.me;
    if (!me || u.kind === 'settings' || u.kind === 'block') return;
    const c = s.conversations.get(u.with);
    const patch: Partial<typeof s> = {};
    if (c) {
      const next = applyToConversation(c, u, me);
      if (next !== c) patch.conversations = mapWith(s.conversations, u.with, next);
    }
    if (u.kind === 'edit' || u.kind === 'delete' || u.kind === 'react' || u.kind === 'hide') {
      const key = messageKey(u.from, u.id);
      // Results follow the messages they show; a hidden one leaves them.
      const results =
        u.kind === 'hide'
          ? s.search.results.filter((r) => r.message.key !== key)
          : s.search.results.map((r) => {
              const message = applyToMessage(r.message, u);
              return message === r.message
                ? r
                : { ...r, message, highlights: message.body === r.message.body ? r.highlights : [] };
            });
      if (results.some((r, i) => r !== s.search.results[i]) || results.length !== s.search.results.length)
        patch.search = { ...s.search, results };
      // Replying to or editing a message that is gone: the composer lets go of it.
      const mode = s.composing.get(u.with);
      if (mode && mode.key === key && (u.kind === 'delete' || u.kind === 'hide')) {
        patch.composing = mapWithout(s.composing, u.with);
        if (mode.kind === 'edit')
          patch.drafts = mode.draft ? mapWith(s.drafts, u.with, mode.draft) : mapWithout(s.drafts, u.with);
      }
    }
    if (Object.keys(patch).length > 0) set(patch);
  },

  // ---------------------------------------------------------------- composer modes

  compose(peer: string, mode: ComposeMode | null): void {
    const s = get();
    const cur = s.composing.get(peer);
    if (mode === null) {
      if (cur) set({ composing: mapWithout(s.composing, peer) });
      return;
    }
    if (cur?.kind === mode.kind && cur.key === mode.key) return;
    if (cur?.kind === 'edit' && mode.kind === 'edit') mode = { ...mode, draft: cur.draft };
    set({ composing: mapWith(s.composing, peer, mode) });
  },

  // ---------------------------------------------------------------- where the log is

  /** The "N unread messages" line above `key` in the open conversation (null removes it). */
  setDivider(divider: { peer: string; key: string; count: number } | null): void {
    set({ divider });
  },

  setPositioning(peer: string | null): void {
    if (get().positioning !== peer) set({ positioning: peer });
  },

  /** Brings a message of `peer` into view and marks it for a moment. */
  focus(peer: string, key: string): void {
    set({ focus: { peer, key, token: ++tokens } });
  },

  clearFocus(): void {
    if (get().focus) set({ focus: null });
  },

  /**
   * A stretch of history around a position (a search result, the first unread message, a
   * quoted original): it replaces what the log holds; the newest messages held so far wait
   * in the tail until scrolling down reaches them.
   */
  stretchLoaded(peer: string, items: readonly MsgFrame[], hasMore: boolean, hasNewer: boolean): void {
    const me = get().me;
    if (!me) return;
    putConversation(peer, (c) => {
      const loaded = mergeMessages([], frames(me, items));
      const newest = c.hasNewer ? c.tail : c.messages;
      if (!hasNewer) {
        // What arrived while the page was on its way (and my unsent messages) stays.
        const last = loaded[loaded.length - 1];
        const later = newest.filter((m) => !m.confirmed || !last || m.ts >= last.ts);
        return {
          ...c,
          messages: mergeMessages(loaded, later),
          tail: [],
          hasNewer: false,
          hasMore,
          loading: false,
          loadError: false,
        };
      }
      return {
        ...c,
        messages: loaded,
        tail: newest.slice(-LIMIT_TAIL),
        hasNewer: true,
        hasMore,
        loading: false,
        loadError: false,
      };
    });
  },

  /** A page after the stretch's newest message (scrolling down); `more`: newer exist still. */
  newerLoaded(peer: string, items: readonly MsgFrame[], more: boolean): void {
    const me = get().me;
    if (!me) return;
    putConversation(peer, (c) => {
      const messages = mergeMessages(c.messages, frames(me, items));
      if (more) return { ...c, messages, loading: false, loadError: false };
      // Reached the newest: what waited in the tail joins (also what arrived meanwhile).
      return {
        ...c,
        messages: mergeMessages(messages, c.tail),
        tail: [],
        hasNewer: false,
        loading: false,
        loadError: false,
      };
    });
  },

  /** The newest page replaces a stretch in the middle ("jump to latest", or my own new message). */
  latestLoaded(peer: string, items: readonly MsgFrame[], more: boolean): void {
    featureActions.stretchLoaded(peer, items, more, false);
  },

  /** What the log showed on screen is read here already, before the server's `read` update says so. */
  readLocally(peer: string, upto: string): void {
    const s = get();
    const me = s.me;
    const c = s.conversations.get(peer);
    if (!me || !c) return;
    const u: UpdateFrame = {
      t: 'update',
      kind: 'read',
      cursor: '',
      ts: 0,
      with: peer,
      upto,
      unread: c.unread,
    };
    const next = applyToConversation(c, u, me);
    // Only the flags: the read mark itself is the server's to move.
    if (next !== c) set({ conversations: mapWith(s.conversations, peer, { ...next, readUpto: c.readUpto }) });
  },

  // ---------------------------------------------------------------- search

  /** Shows the search in the sidebar, in all conversations or only the one with `peer`. */
  openSearch(peer: string | null): void {
    const s = get().search;
    if (s.open && s.peer === peer) return;
    // Another scope asks a new question: the old answers go.
    set({ search: s.peer === peer ? { ...s, open: true } : { ...NO_SEARCH, open: true, peer } });
  },

  /** Puts the search aside (a phone shows the chat that was chosen); its results stay for later. */
  hideSearch(): void {
    const s = get().search;
    if (s.open) set({ search: { ...s, open: false } });
  },

  searchStarted(query: string, peer: string | null, more: boolean): void {
    const s = get().search;
    // Asking for more keeps the results; a new query starts over.
    set({
      search: more
        ? { ...s, loading: true, error: null }
        : { ...NO_SEARCH, open: true, query, peer, loading: true },
    });
  },

  searchAnswered(
    query: string,
    peer: string | null,
    items: readonly { peer: string; msg: MsgFrame; highlights: readonly Range[] }[],
    more: boolean,
    append: boolean,
  ): void {
    const s = get();
    const me = s.me;
    if (!me || s.search.query !== query || s.search.peer !== peer) return; // a newer search replaced it
    const results: SearchResult[] = items.map((i) => ({
      peer: i.peer,
      message: fromFrame(me, i.msg),
      highlights: i.highlights,
    }));
    const search: SearchState = {
      ...s.search,
      results: append ? [...s.search.results, ...results] : results,
      more,
      loading: false,
      error: null,
    };
    set({ search });
  },

  searchFailed(query: string, peer: string | null, code: string): void {
    const s = get().search;
    if (s.query !== query || s.peer !== peer) return;
    set({ search: { ...s, loading: false, error: code } });
  },

  closeSearch(): void {
    if (get().search !== NO_SEARCH) set({ search: NO_SEARCH });
  },

  // ---------------------------------------------------------------- the image viewer

  openViewer(peer: string, fileId: string): void {
    set({ viewer: { peer, fileId } });
  },

  closeViewer(): void {
    if (get().viewer) set({ viewer: null });
  },

  // ---------------------------------------------------------------- notices

  toast(text: StringKey, params?: Record<string, string | number>): void {
    set({ toast: { text, params, token: ++tokens } });
  },

  clearToast(token: number): void {
    if (get().toast?.token === token) set({ toast: null });
  },
};

/** The newest messages kept while a stretch in the middle is shown (more are fetched by scrolling). */
const LIMIT_TAIL = 100;
