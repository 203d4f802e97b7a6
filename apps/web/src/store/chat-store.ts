import type { ClientState } from '@pigeon/client';
import type { Feature, Range } from '@pigeon/protocol';
import { create } from 'zustand';
import type { Language, StringKey } from '../i18n/strings';
import type { ChatMessage } from './message-model';

/** The connection as the header shows it: the client's status (see network.ts). */
type ConnectionKind = ClientState;
export interface ConnectionStatus {
  kind: ConnectionKind;
  /** With `reconnecting`: when the next attempt starts (ms since the epoch). */
  nextAttemptAt?: number | undefined;
}

export interface Conversation {
  peer: string;
  /**
   * Ordered oldest first, one entry per message (see mergeMessages): a contiguous stretch of
   * the conversation, normally reaching its newest message. Opened at a search result or at
   * the first unread message it may end earlier (`hasNewer`).
   */
  messages: ChatMessage[];
  /** With the `read` feature the server's count (the same on every device); else counted here. */
  unread: number;
  /** null until the newest page of history has been fetched; then whether older exists. */
  hasMore: boolean | null;
  loading: boolean;
  loadError: boolean;
  /** `messages` stops short of the newest message: scrolling down (or "jump to latest") fetches on. */
  hasNewer: boolean;
  /**
   * While `hasNewer`: the newest messages known (from the list, live, my own), oldest first.
   * They join `messages` when the stretch reaches them; the sidebar shows the last one.
   */
  tail: ChatMessage[];
  /** My read mark (`read`): the cursor of the newest entry read; null before anything was. */
  readUpto: string | null;
  /** The peer's read receipt (`seen`): my entry up to which they read; null while none arrived here. */
  seenUpto: string | null;
}

/** What the composer of a conversation is doing besides writing a new message. */
export type ComposeMode =
  | { kind: 'reply'; key: string }
  /** `draft`: what the composer held before, given back when the edit ends. */
  | { kind: 'edit'; key: string; draft: string };

/** A file picked, dropped or pasted into a conversation's composer, not sent yet. */
export interface TrayFile {
  /** Unique in the tray. */
  id: string;
  file: File;
  name: string;
  /** What the browser says it is (may be empty). */
  type: string;
  size: number;
  /** A photo the app can draw (shown as a preview; scaled and stripped before it goes). */
  image: boolean;
  /** A blob: URL of the file for its preview (images only). */
  preview: string | null;
}

/** Bytes of one attachment on their way (the client's `upload` event). */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/** One search result: the message in its current state and where the query matched. */
export interface SearchResult {
  peer: string;
  message: ChatMessage;
  highlights: readonly Range[];
}

export interface SearchState {
  /** The sidebar shows the search (field, results) instead of the conversations. */
  open: boolean;
  /** The query the results answer ('' = no search). */
  query: string;
  /** Only the conversation with this peer; null: all of them. */
  peer: string | null;
  results: readonly SearchResult[];
  more: boolean;
  loading: boolean;
  /** A refusal or failure code of the last request. */
  error: string | null;
}

export const NO_SEARCH: SearchState = {
  open: false,
  query: '',
  peer: null,
  results: [],
  more: false,
  loading: false,
  error: null,
};

/**
 * What has been counted as unread (or read) per peer, so that a message the client reports
 * again after a reload is not counted twice: everything up to `ts`, and at exactly `ts`
 * the messages in `keys`.
 */
export interface ReadMark {
  ts: number;
  keys: string[];
}

type AuthPhase = 'restoring' | 'signed-out' | 'signed-in';
export type ThemeChoice = 'system' | 'light' | 'dark';

/** What the user chose in Settings; kept per browser (see saved-state.ts). */
export interface Preferences {
  theme: ThemeChoice;
  /** Desktop notifications for new messages while the tab is hidden or unfocused. */
  notify: boolean;
  /** A short sound with each notification. */
  sound: boolean;
}

/**
 * Every collection keyed by a user id or message id is a Map: user ids like `constructor` or
 * `__proto__` are valid, and would collide with Object.prototype in a plain object.
 */
export interface ChatState {
  me: string | null;
  auth: AuthPhase;
  /** A notice for the sign-in screen, e.g. that the session expired. */
  authNotice: StringKey | null;
  status: ConnectionStatus;
  language: Language;
  preferences: Preferences;
  conversations: ReadonlyMap<string, Conversation>;
  activePeer: string | null;
  /** The chat screen, or the Settings page (both only while signed in). */
  view: 'chats' | 'settings';
  /** The tab is visible: messages in the open conversation count as read only then. */
  visible: boolean;
  presence: ReadonlyMap<string, boolean>;
  /** peer → until when (ms since the epoch) their typing indicator shows. */
  typingUntil: ReadonlyMap<string, number>;
  readMarks: ReadonlyMap<string, ReadMark>;
  /** peer → the unsent text in that conversation's composer (non-empty only). */
  drafts: ReadonlyMap<string, string>;
  /** My messages not yet stored by the server (sending or failed): sign-out asks first. */
  unsent: number;
  /** What the server enabled for this connection (`welcome.features`); empty for version 1. */
  features: ReadonlySet<Feature>;
  /** `read`: whether I send (and so see) read receipts; null while unknown. */
  readReceipts: boolean | null;
  /** `block`: the users I blocked, sorted; null while unknown. */
  blocked: readonly string[] | null;
  /** peer → what its composer is doing (replying to or editing a message). */
  composing: ReadonlyMap<string, ComposeMode>;
  /** The "N unread messages" line of the open conversation: above `key`, set when it was opened. */
  divider: { peer: string; key: string; count: number } | null;
  /** The conversation whose log is being placed at its first unread message: nothing counts as read meanwhile. */
  positioning: string | null;
  /** A message the log brings into view and marks (a search result, a quoted original); `token` renews it. */
  focus: { peer: string; key: string; token: number } | null;
  search: SearchState;
  /** peer → files waiting in the composer (`files`). */
  tray: ReadonlyMap<string, readonly TrayFile[]>;
  /** peer → photos go as they are, as files (no scaling, metadata kept), not as photos. */
  sendOriginal: ReadonlyMap<string, boolean>;
  /** My message id → per attachment, the bytes uploaded so far. */
  uploads: ReadonlyMap<string, readonly (UploadProgress | undefined)[]>;
  /** The image viewer: which file of which conversation is open full size. */
  viewer: { peer: string; fileId: string } | null;
  /** A short notice about something that did not work (a refused edit, a copy); cleared after a while. */
  toast: { text: StringKey; params?: Record<string, string | number>; token: number } | null;
}

/** Notifications are on, but only take effect once the user granted the permission (Settings). */
export const DEFAULT_PREFERENCES: Preferences = { theme: 'system', notify: true, sound: true };

export function initialState(language: Language = 'en', preferences = DEFAULT_PREFERENCES): ChatState {
  return {
    me: null,
    auth: 'restoring',
    authNotice: null,
    status: { kind: 'offline' },
    language,
    preferences,
    conversations: new Map(),
    activePeer: null,
    view: 'chats',
    visible: true,
    presence: new Map(),
    typingUntil: new Map(),
    readMarks: new Map(),
    drafts: new Map(),
    unsent: 0,
    features: new Set(),
    readReceipts: null,
    blocked: null,
    composing: new Map(),
    divider: null,
    positioning: null,
    focus: null,
    search: NO_SEARCH,
    tray: new Map(),
    sendOriginal: new Map(),
    uploads: new Map(),
    viewer: null,
    toast: null,
  };
}

export const useChatStore = create<ChatState>()(() => initialState());

export function emptyConversation(peer: string): Conversation {
  return {
    peer,
    messages: [],
    unread: 0,
    hasMore: null,
    loading: false,
    loadError: false,
    hasNewer: false,
    tail: [],
    readUpto: null,
    seenUpto: null,
  };
}

/** The newest message known of a conversation (what its row in the list shows). */
export function newestOf(c: Conversation): ChatMessage | undefined {
  return c.tail[c.tail.length - 1] ?? c.messages[c.messages.length - 1];
}
