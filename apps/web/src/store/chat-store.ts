import type { ClientState } from '@pigeon/client';
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
  };
}

export const useChatStore = create<ChatState>()(() => initialState());

export function emptyConversation(peer: string): Conversation {
  return { peer, messages: [], unread: 0, hasMore: null, loading: false, loadError: false };
}
