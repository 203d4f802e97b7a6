import type { KeyValueStorage } from '@pigeon/client';
import { DEFAULTS } from '../config';
import type { Language } from '../i18n/strings';
import { pairsFrom } from '../lib/maps';
import { safeLocalStorage } from './browser-storage';
import { DEFAULT_PREFERENCES, type Preferences, type ReadMark, type ThemeChoice } from './chat-store';
import type { ChatMessage } from './message-model';

/**
 * What the web app itself keeps (the client keeps the session, outbox and cursor under its
 * own prefix). Per browser, in localStorage because they are needed before the first paint:
 * the language and the preferences (theme, notifications). Per user, in the same IndexedDB
 * storage as the client's outbox: unread counts, read marks (so counts survive a reload
 * without counting anything twice) and drafts. Maps are stored as `[key, value]` pairs:
 * user ids such as `__proto__` are valid, and would be special as JSON object keys.
 */
const PREFIX = 'pigeon-web:';

export function loadLanguage(): Language | null {
  const v = safeLocalStorage()?.getItem(`${PREFIX}language`);
  return v === 'en' || v === 'zh' ? v : null;
}

export function saveLanguage(language: Language): void {
  trySet(`${PREFIX}language`, language);
}

const THEMES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

export function loadPreferences(): Preferences {
  const raw = safeLocalStorage()?.getItem(`${PREFIX}preferences`);
  if (!raw) return DEFAULT_PREFERENCES;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    return {
      theme: THEMES.find((t) => t === v.theme) ?? DEFAULT_PREFERENCES.theme,
      notify: typeof v.notify === 'boolean' ? v.notify : DEFAULT_PREFERENCES.notify,
      sound: typeof v.sound === 'boolean' ? v.sound : DEFAULT_PREFERENCES.sound,
    };
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

export function savePreferences(p: Preferences): void {
  trySet(`${PREFIX}preferences`, JSON.stringify(p));
}

function trySet(key: string, value: string): void {
  try {
    safeLocalStorage()?.setItem(key, value);
  } catch {
    // A full or disabled localStorage only costs this choice after a reload.
  }
}

interface SavedUnread {
  unread: Map<string, number>;
  readMarks: Map<string, ReadMark>;
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isMark = (v: unknown): v is ReadMark =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ReadMark).ts === 'number' &&
  Array.isArray((v as ReadMark).keys) &&
  (v as ReadMark).keys.every((k) => typeof k === 'string');
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export async function loadUnread(kv: KeyValueStorage, user: string): Promise<SavedUnread> {
  const v = parse(await kv.get(`${PREFIX}unread:${user}`));
  return { unread: pairsFrom(v?.unread, isCount), readMarks: pairsFrom(v?.readMarks, isMark) };
}

export async function saveUnread(kv: KeyValueStorage, user: string, saved: SavedUnread): Promise<void> {
  await kv.set(
    `${PREFIX}unread:${user}`,
    JSON.stringify({ unread: [...saved.unread], readMarks: [...saved.readMarks] }),
  );
}

/**
 * The drafts: the copy written to sessionStorage as the page was leaving (see
 * keepDraftsForReload) if there is one, since a reload may cut short the IndexedDB write
 * started at that moment; else the IndexedDB copy.
 */
export async function loadDrafts(kv: KeyValueStorage, user: string): Promise<Map<string, string>> {
  const key = `${PREFIX}drafts:${user}`;
  const session = safeSessionStorage();
  const leaving = session?.getItem(key);
  if (leaving) {
    session?.removeItem(key);
    try {
      await kv.set(key, leaving);
    } catch {
      // Still in sessionStorage's copy until this tab closes; the next change writes it again.
    }
    return pairsFrom(parse(leaving)?.drafts, isText);
  }
  return pairsFrom(parse(await kv.get(key))?.drafts, isText);
}

/** Synchronous, for `pagehide`: what the user was typing survives a reload of this tab. */
export function keepDraftsForReload(user: string, drafts: ReadonlyMap<string, string>): void {
  try {
    safeSessionStorage()?.setItem(`${PREFIX}drafts:${user}`, JSON.stringify({ drafts: [...drafts] }));
  } catch {
    // Full: the IndexedDB write started at the same time is all there is.
  }
}

function safeSessionStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export async function saveDrafts(
  kv: KeyValueStorage,
  user: string,
  drafts: ReadonlyMap<string, string>,
): Promise<void> {
  await kv.set(`${PREFIX}drafts:${user}`, JSON.stringify({ drafts: [...drafts] }));
}

const isRecentMessage = (v: unknown): v is ChatMessage => {
  const m = v as ChatMessage;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof m.key === 'string' &&
    typeof m.id === 'string' &&
    typeof m.from === 'string' &&
    typeof m.to === 'string' &&
    typeof m.body === 'string' &&
    typeof m.ts === 'number' &&
    m.confirmed === true &&
    (m.state === 'sent' || m.state === 'delivered' || m.state === 'received')
  );
};
const isRecentList = (v: unknown): v is ChatMessage[] => Array.isArray(v) && v.every(isRecentMessage);

/**
 * The newest messages of the most recent conversations, so that a reload without network
 * (the service worker serves the app shell) still shows the conversations, not an empty list.
 * Refetched from the server at the next connection; never more than DEFAULTS' limits.
 */
export async function loadRecent(kv: KeyValueStorage, user: string): Promise<Map<string, ChatMessage[]>> {
  return pairsFrom(parse(await kv.get(`${PREFIX}recent:${user}`))?.recent, isRecentList);
}

export async function saveRecent(
  kv: KeyValueStorage,
  user: string,
  conversations: Iterable<{ peer: string; messages: readonly ChatMessage[] }>,
): Promise<void> {
  const newest = [...conversations]
    .map((c) => ({ peer: c.peer, messages: c.messages.filter((m) => m.confirmed) }))
    .filter((c) => c.messages.length > 0)
    .sort((a, b) => (b.messages.at(-1)?.ts ?? 0) - (a.messages.at(-1)?.ts ?? 0))
    .slice(0, DEFAULTS.recentConversations)
    .map((c) => [c.peer, c.messages.slice(-DEFAULTS.recentMessagesEach).map(({ seq: _seq, ...m }) => m)]);
  await kv.set(`${PREFIX}recent:${user}`, JSON.stringify({ recent: newest }));
}

/** Signing out forgets what the app kept for this user (their drafts go with the outbox decision). */
export async function clearUserData(kv: KeyValueStorage, user: string): Promise<void> {
  await kv.remove(`${PREFIX}unread:${user}`);
  await kv.remove(`${PREFIX}recent:${user}`);
}

function parse(raw: string | null | undefined): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
