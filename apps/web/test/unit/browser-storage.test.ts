import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { browserStorage } from '../../src/store/browser-storage';

/** A localStorage that is full: every write throws, as the browser's does at its quota. */
function fullLocalStorage(initial: Record<string, string> = {}): Storage {
  const map = new Map(Object.entries(initial));
  return {
    get length() {
      return map.size;
    },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    },
    removeItem: (k) => {
      map.delete(k);
    },
    clear: () => map.clear(),
  };
}

let db = 0;
const fresh = () => `pigeon-test-${++db}`;

describe('browserStorage (IndexedDB through idb-keyval)', () => {
  it('stores, reads, updates atomically and removes string values', async () => {
    const kv = browserStorage({ dbName: fresh(), legacy: null });
    expect(await kv.get('a')).toBeNull();
    await kv.set('a', '1');
    expect(await kv.get('a')).toBe('1');
    await kv.update('a', (cur) => `${cur}+2`);
    expect(await kv.get('a')).toBe('1+2');
    await kv.update('a', () => null);
    expect(await kv.get('a')).toBeNull();
    await kv.set('b', 'x');
    await kv.remove('b');
    expect(await kv.get('b')).toBeNull();
  });

  it('keeps every write while localStorage is full (the outbox no longer lives there)', async () => {
    const legacy = fullLocalStorage();
    const kv = browserStorage({ dbName: fresh(), legacy });
    const outbox = JSON.stringify([{ id: 'm1', to: 'bob', body: 'x'.repeat(4000), state: 'pending' }]);
    await kv.set('pigeon:u:alice:outbox', outbox);
    await kv.update('pigeon:u:alice:outbox', (cur) => `${cur}`);
    expect(await kv.get('pigeon:u:alice:outbox')).toBe(outbox);
    // A second instance on the same database (a reload) reads the same.
    expect(await browserStorage({ dbName: `pigeon-test-${db}`, legacy }).get('pigeon:u:alice:outbox')).toBe(
      outbox,
    );
  });

  it('reads what an older version left in localStorage and moves it over on the next write', async () => {
    const legacy = fullLocalStorage({ 'pigeon:session': '{"user":"alice"}', 'pigeon:u:alice:outbox': '[1]' });
    const kv = browserStorage({ dbName: fresh(), legacy });
    expect(await kv.get('pigeon:session')).toBe('{"user":"alice"}');
    await kv.update('pigeon:u:alice:outbox', (cur) => `${cur?.slice(0, -1)},2]`);
    expect(await kv.get('pigeon:u:alice:outbox')).toBe('[1,2]');
    expect(legacy.getItem('pigeon:u:alice:outbox')).toBeNull();
    await kv.remove('pigeon:session');
    expect(await kv.get('pigeon:session')).toBeNull();
  });

  it('aborts an update whose function throws, leaving the stored value', async () => {
    const kv = browserStorage({ dbName: fresh(), legacy: null });
    await kv.set('k', 'kept');
    await expect(
      kv.update('k', () => {
        throw new Error('bad merge');
      }),
    ).rejects.toThrow('bad merge');
    expect(await kv.get('k')).toBe('kept');
  });

  it('keeps a write that a reload interrupted: journaled at pagehide, replayed at the next start', async () => {
    const journal = sessionStorage;
    const first = browserStorage({ dbName: fresh(), legacy: null, journal });
    await first.set('pigeon:u:alice:outbox', 'old');
    // Leaving the page while the next write is still in flight...
    const inFlight = first.set('pigeon:u:alice:outbox', 'with the message sent just now');
    first.saveJournal();
    await inFlight;
    expect(journal.getItem('pigeon-web:unwritten')).toContain('with the message sent just now');
    // ...the next start (here on a database that never got the write) replays it first.
    const next = browserStorage({ dbName: fresh(), legacy: null, journal });
    expect(await next.get('pigeon:u:alice:outbox')).toBe('with the message sent just now');
    expect(journal.getItem('pigeon-web:unwritten')).toBeNull();
    // Nothing in flight: nothing journaled.
    next.saveJournal();
    expect(journal.getItem('pigeon-web:unwritten')).toBeNull();
  });

  it('falls back to localStorage without IndexedDB', async () => {
    const kv = browserStorage({ dbName: fresh(), legacy: localStorage, indexedDb: null });
    await kv.set('k', 'v');
    expect(localStorage.getItem('k')).toBe('v');
    await kv.update('k', (cur) => `${cur}w`);
    expect(await kv.get('k')).toBe('vw');
  });
});
