import type { Language } from '../i18n/strings';
import type { ReadMark } from './chat-store';

/**
 * What the web app itself keeps in localStorage (the client keeps the session, outbox and
 * cursor under its own prefix): the chosen language and, per user, the unread counts and
 * read marks, so that counts survive a reload without counting anything twice.
 */
const PREFIX = 'pigeon-web:';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function loadLanguage(): Language | null {
  const v = storage()?.getItem(`${PREFIX}language`);
  return v === 'en' || v === 'zh' ? v : null;
}

export function saveLanguage(language: Language): void {
  storage()?.setItem(`${PREFIX}language`, language);
}

export interface SavedUnread {
  unread: Record<string, number>;
  readMarks: Record<string, ReadMark>;
}

export function loadUnread(user: string): SavedUnread {
  const raw = storage()?.getItem(`${PREFIX}unread:${user}`);
  if (!raw) return { unread: {}, readMarks: {} };
  try {
    const v = JSON.parse(raw) as Partial<SavedUnread>;
    const unread: Record<string, number> = {};
    for (const [k, n] of Object.entries(v.unread ?? {})) if (Number.isInteger(n) && n > 0) unread[k] = n;
    const readMarks: Record<string, ReadMark> = {};
    for (const [k, m] of Object.entries(v.readMarks ?? {})) {
      if (m && typeof m.ts === 'number' && Array.isArray(m.keys)) {
        readMarks[k] = { ts: m.ts, keys: m.keys.filter((x) => typeof x === 'string') };
      }
    }
    return { unread, readMarks };
  } catch {
    return { unread: {}, readMarks: {} };
  }
}

export function saveUnread(user: string, saved: SavedUnread): void {
  try {
    storage()?.setItem(`${PREFIX}unread:${user}`, JSON.stringify(saved));
  } catch {
    // A full or disabled storage only costs the counts after a reload.
  }
}

export function clearUnread(user: string): void {
  storage()?.removeItem(`${PREFIX}unread:${user}`);
}
