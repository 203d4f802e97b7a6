import 'fake-indexeddb/auto';
import { memoryStorage } from '@pigeon/client';
import { createStore, keys } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserStorage } from '../../src/store/browser-storage';
import { DEFAULT_PREFERENCES } from '../../src/store/chat-store';
import { loadDrafts, loadPreferences, loadRecent, loadUnread } from '../../src/store/saved-state';

/**
 * What the app reads back from storage goes through valibot schemas (issue 13): storage may
 * hold what an older version, another tab or a hand edit wrote. A malformed value costs only
 * itself: a preference falls back to its own default, a pair or a journal entry is skipped.
 */
const PREFS = 'pigeon-web:preferences';

describe('loadPreferences', () => {
  beforeEach(() => localStorage.clear());

  it('gives the defaults when nothing, no JSON, or JSON that is not an object was saved', () => {
    expect(loadPreferences()).toEqual(DEFAULT_PREFERENCES);
    for (const raw of ['', '{"theme":', 'null', '"dark"', '42']) {
      localStorage.setItem(PREFS, raw);
      expect(loadPreferences(), raw).toEqual(DEFAULT_PREFERENCES);
    }
  });

  it('reads back every field as saved', () => {
    localStorage.setItem(PREFS, JSON.stringify({ theme: 'dark', notify: false, sound: false }));
    expect(loadPreferences()).toEqual({ theme: 'dark', notify: false, sound: false });
  });

  it('replaces a missing or malformed field by its own default and keeps the others', () => {
    // An older version saved no `sound`.
    localStorage.setItem(PREFS, JSON.stringify({ theme: 'light', notify: false }));
    expect(loadPreferences()).toEqual({ theme: 'light', notify: false, sound: DEFAULT_PREFERENCES.sound });
    localStorage.setItem(PREFS, JSON.stringify({ theme: 'blue', notify: 'yes', sound: false }));
    expect(loadPreferences()).toEqual({
      theme: DEFAULT_PREFERENCES.theme,
      notify: DEFAULT_PREFERENCES.notify,
      sound: false,
    });
  });
});

describe('per-user saved state', () => {
  it('keeps the well-formed unread counts and read marks, skips the others (a count of 1 passes, 0 does not)', async () => {
    const kv = memoryStorage();
    const mark = { ts: 5, keys: ['bob:m1'] };
    kv.set(
      'pigeon-web:unread:alice',
      JSON.stringify({
        unread: [['bob', 1], ['carol', 0], ['dave', 1.5], ['erin', '3'], ['__proto__', 2], [7, 1], ['frank']],
        readMarks: [
          ['bob', mark],
          ['carol', { ts: '5', keys: [] }],
          ['dave', { ts: 1, keys: [3] }],
        ],
      }),
    );
    const saved = await loadUnread(kv, 'alice');
    expect([...saved.unread]).toEqual([
      ['bob', 1],
      ['__proto__', 2],
    ]);
    expect([...saved.readMarks]).toEqual([['bob', mark]]);
  });

  it('reads nothing from a value that is not a JSON object', async () => {
    const kv = memoryStorage();
    kv.set('pigeon-web:unread:alice', 'not json');
    kv.set('pigeon-web:drafts:alice', '[["bob","hi"]]');
    expect((await loadUnread(kv, 'alice')).unread.size).toBe(0);
    expect((await loadDrafts(kv, 'alice')).size).toBe(0);
  });

  it('keeps drafts that are text (one character passes, an empty one does not)', async () => {
    const kv = memoryStorage();
    kv.set(
      'pigeon-web:drafts:alice',
      JSON.stringify({
        drafts: [
          ['bob', 'h'],
          ['carol', ''],
          ['dave', 3],
        ],
      }),
    );
    expect([...(await loadDrafts(kv, 'alice'))]).toEqual([['bob', 'h']]);
  });

  it('keeps a conversation of recent messages only when every message is a confirmed one', async () => {
    const kv = memoryStorage();
    const m = {
      key: 'alice:m1',
      id: 'm1',
      from: 'alice',
      to: 'bob',
      body: 'hi',
      ts: 1,
      confirmed: true,
      state: 'sent',
      reactions: [],
    };
    kv.set(
      'pigeon-web:recent:alice',
      JSON.stringify({
        recent: [
          ['bob', [m]],
          ['carol', [m, { ...m, confirmed: false }]],
          ['dave', [{ ...m, state: 'failed' }]],
          ['erin', [{ ...m, body: undefined }]],
        ],
      }),
    );
    const recent = await loadRecent(kv, 'alice');
    expect([...recent.keys()]).toEqual(['bob']);
    // Fields beyond the checked ones come back as saved.
    expect(recent.get('bob')).toEqual([m]);
  });
});

describe('the journal of writes a reload interrupted', () => {
  let db = 0;
  const fresh = () => `pigeon-saved-state-${++db}`;

  it('replays its well-formed entries (a value, a removal) and skips the malformed ones', async () => {
    const journal = sessionStorage;
    const name = fresh();
    const before = browserStorage({ dbName: name, legacy: null, journal: null });
    await before.set('gone', 'still here');
    journal.setItem(
      'pigeon-web:unwritten',
      JSON.stringify([['kept', 'v1'], ['gone', null], ['short'], [3, 'x'], ['typed', 4], 'junk', null]),
    );
    const next = browserStorage({ dbName: name, legacy: null, journal });
    expect(await next.get('kept')).toBe('v1');
    expect(await next.get('gone')).toBeNull();
    expect(journal.getItem('pigeon-web:unwritten')).toBeNull();
    // Nothing else was written: the database holds exactly the one replayed value.
    expect(await keys(createStore(name, 'kv'))).toEqual(['kept']);
  });

  it('drops a journal that is not a JSON array and starts normally', async () => {
    const journal = sessionStorage;
    for (const raw of ['[["a", "1"]', '{"a":"1"}']) {
      journal.setItem('pigeon-web:unwritten', raw);
      const kv = browserStorage({ dbName: fresh(), legacy: null, journal });
      expect(await kv.get('a'), raw).toBeNull();
      expect(journal.getItem('pigeon-web:unwritten')).toBeNull();
      await kv.set('a', '2');
      expect(await kv.get('a')).toBe('2');
    }
  });
});
