import type { KeyValueStorage } from '@pigeon/client';
import * as v from 'valibot';
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
 *
 * Everything read back is checked with valibot schemas (the codec's library, so no extra
 * dependency): storage may hold what an older version, another tab or a hand edit wrote, and a
 * bad value costs only itself (a preference falls back to its default, a pair is skipped),
 * never the start of the app.
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

/** A field that is missing (an older version's save) or malformed takes its default alone. */
const orDefault = <T>(schema: v.GenericSchema<T>, value: T) => v.fallback(v.optional(schema, value), value);

const SavedPreferences = v.pipe(
  v.string(),
  v.parseJson(),
  v.object({
    theme: orDefault(v.picklist(THEMES), DEFAULT_PREFERENCES.theme),
    notify: orDefault(v.boolean(), DEFAULT_PREFERENCES.notify),
    sound: orDefault(v.boolean(), DEFAULT_PREFERENCES.sound),
  }),
) satisfies v.GenericSchema<string, Preferences>;

export function loadPreferences(): Preferences {
  const read = v.safeParse(SavedPreferences, safeLocalStorage()?.getItem(`${PREFIX}preferences`));
  return read.success ? read.output : DEFAULT_PREFERENCES;
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

const Count = v.pipe(v.number(), v.integer(), v.minValue(1));
const Mark = v.object({ ts: v.number(), keys: v.array(v.string()) }) satisfies v.GenericSchema<ReadMark>;
const Text = v.pipe(v.string(), v.minLength(1));
const isCount = (x: unknown): x is number => v.is(Count, x);
const isMark = (x: unknown): x is ReadMark => v.is(Mark, x);
const isText = (x: unknown): x is string => v.is(Text, x);

export async function loadUnread(kv: KeyValueStorage, user: string): Promise<SavedUnread> {
  const saved = parse(await kv.get(`${PREFIX}unread:${user}`));
  return { unread: pairsFrom(saved?.unread, isCount), readMarks: pairsFrom(saved?.readMarks, isMark) };
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

/**
 * A confirmed message as saveRecent wrote it: the fields the log cannot show a message
 * without; the optional ones (reactions, files, reply) are shown when present.
 */
const RecentMessage = v.looseObject({
  key: v.string(),
  id: v.string(),
  from: v.string(),
  to: v.string(),
  body: v.string(),
  ts: v.number(),
  confirmed: v.literal(true),
  state: v.picklist(['sent', 'delivered', 'received']),
});
const RecentList = v.array(RecentMessage);
// The schema checks what saveRecent guarantees; the type is the log's own.
const isRecentList = (x: unknown): x is ChatMessage[] => v.is(RecentList, x);

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

/** A stored JSON object (each key's pairs are checked where they are read), or null. */
const StoredObject = v.pipe(v.string(), v.parseJson(), v.record(v.string(), v.unknown()));

function parse(raw: string | null | undefined): Record<string, unknown> | null {
  const read = v.safeParse(StoredObject, raw);
  return read.success ? read.output : null;
}
