import type { KeyValueStorage } from '@pigeon/client';
import { createStore, del, get, promisifyRequest, set, type UseStore } from 'idb-keyval';
import * as v from 'valibot';

/**
 * Where the client keeps the session, each user's outbox and cursor, and where the app keeps
 * unread counts, read marks, drafts and recent messages: IndexedDB (through idb-keyval, a
 * small, well-kept wrapper), not localStorage. localStorage holds about 5 MB for the whole
 * origin and throws when full, which used to lose an outbox write; IndexedDB's quota is a
 * share of the disk, its writes are transactional, and it can hold attachments later.
 * Values stay strings, as the client's storage interface defines them.
 *
 * Three safety nets:
 * - Older versions kept these keys in localStorage: a key not found in IndexedDB is read from
 *   there, and moved over by the next write (which removes the old copy).
 * - A reload can cut short an IndexedDB write still in flight (a message sent a moment before
 *   the reload). Writes not yet committed when the page is left (`pagehide`) are copied,
 *   synchronously, to sessionStorage, which survives the reload of this tab; the next start
 *   writes them to IndexedDB before anything is read.
 * - When IndexedDB cannot be opened at all (some private modes), localStorage is used.
 */
interface BrowserStorage extends KeyValueStorage {
  /** Atomic read-modify-write of one key in one transaction (other tabs write the outbox too). */
  update(key: string, fn: (current: string | null) => string | null): Promise<void>;
  /** Copies the writes not committed yet to the journal (called on `pagehide`). */
  saveJournal(): void;
}

interface BrowserStorageOptions {
  dbName?: string;
  /** Where older versions kept the keys, and the fallback without IndexedDB. */
  legacy?: Storage | null;
  indexedDb?: IDBFactory | null;
  /** Survives a reload of the tab: holds the writes a reload interrupted. */
  journal?: Storage | null;
}

/** Errors with which IndexedDB refuses to open at all, rather than failing one write. */
const UNAVAILABLE = new Set(['InvalidStateError', 'UnknownError', 'SecurityError', 'NotSupportedError']);
const JOURNAL_KEY = 'pigeon-web:unwritten';
/** The journal as saveJournal writes it: `[key, value]` pairs, value null for a removal. */
const Journal = v.pipe(v.string(), v.parseJson(), v.array(v.unknown()));
const JournalEntry = v.tuple([v.string(), v.nullable(v.string())]);

export function browserStorage(options: BrowserStorageOptions = {}): BrowserStorage {
  const legacy = options.legacy === undefined ? safeStorage('localStorage') : options.legacy;
  const indexedDb = options.indexedDb === undefined ? (globalThis.indexedDB ?? null) : options.indexedDb;
  const journal = options.journal === undefined ? safeStorage('sessionStorage') : options.journal;
  const legacyValue = (key: string) => legacy?.getItem(key) ?? null;
  const legacyWrite = (key: string, value: string | null) => {
    if (value === null) legacy?.removeItem(key);
    else legacy?.setItem(key, value);
  };
  if (!indexedDb) {
    return {
      get: (key) => legacyValue(key),
      set: async (key, value) => legacyWrite(key, value),
      remove: async (key) => legacyWrite(key, null),
      update: async (key, fn) => legacyWrite(key, fn(legacyValue(key))),
      saveJournal: () => undefined,
    };
  }
  const store: UseStore = createStore(options.dbName ?? 'pigeon', 'kv');
  let unavailable = false;
  /** Writes begun and not committed yet: key → the value being written (null: removal). */
  const inflight = new Map<string, { value: string | null }>();

  /** Runs `op` on IndexedDB; falls back to localStorage for good if the database cannot open. */
  async function run<T>(op: () => Promise<T>, otherwise: () => T): Promise<T> {
    if (unavailable) return otherwise();
    try {
      return await op();
    } catch (err) {
      if (err instanceof DOMException && UNAVAILABLE.has(err.name)) {
        unavailable = true;
        return otherwise();
      }
      // A failed write on a working database (e.g. quota) must reach the caller: the client
      // keeps the state in memory and retries, so nothing is lost.
      throw err;
    }
  }

  /**
   * Writes `value` for `key` (null removes it). It is tracked as in flight from the moment
   * it is asked for (synchronously) until committed.
   */
  function track(key: string, value: string | null): { value: string | null } {
    const mark = { value };
    inflight.set(key, mark);
    return mark;
  }

  async function write(key: string, value: string | null, mark = track(key, value)): Promise<void> {
    try {
      await run(
        async () => {
          if (value === null) await del(key, store);
          else await set(key, value, store);
          legacy?.removeItem(key);
        },
        () => legacyWrite(key, value),
      );
    } finally {
      if (inflight.get(key) === mark) inflight.delete(key);
    }
  }

  /** Replays what a reload interrupted, before anything else reads or writes. */
  async function replayJournal(): Promise<void> {
    const raw = journal?.getItem(JOURNAL_KEY);
    if (!raw) return;
    // Entry by entry: a malformed one (another version's, a hand edit) costs only itself.
    const read = v.safeParse(Journal, raw);
    for (const e of read.success ? read.output : []) {
      if (v.is(JournalEntry, e)) await write(e[0], e[1]);
    }
    journal?.removeItem(JOURNAL_KEY);
  }
  const ready = replayJournal().catch((err: unknown) => console.error('pigeon: journal not replayed', err));

  return {
    get: async (key) => {
      await ready;
      const pending = inflight.get(key);
      if (pending) return pending.value;
      return run(
        async () => {
          const value = await get<unknown>(key, store);
          return typeof value === 'string' ? value : legacyValue(key);
        },
        () => legacyValue(key),
      );
    },
    set: async (key, value) => {
      const mark = track(key, value);
      await ready;
      await write(key, value, mark);
    },
    remove: async (key) => {
      const mark = track(key, null);
      await ready;
      await write(key, null, mark);
    },
    update: async (key, fn) => {
      await ready;
      const mark = { value: null as string | null };
      try {
        await run(
          async () => {
            // The read and the write happen in one readwrite transaction, inside the request's
            // success callback: no other tab's write can come between them.
            await store(
              'readwrite',
              (os) =>
                new Promise<void>((resolve, reject) => {
                  const read = os.get(key);
                  read.onerror = () => reject(read.error);
                  read.onsuccess = () => {
                    try {
                      const stored: unknown = read.result;
                      mark.value = fn(typeof stored === 'string' ? stored : legacyValue(key));
                      inflight.set(key, mark);
                      if (mark.value === null) os.delete(key);
                      else os.put(mark.value, key);
                      resolve(promisifyRequest(os.transaction));
                    } catch (err) {
                      os.transaction.abort();
                      reject(err);
                    }
                  };
                }),
            );
            legacy?.removeItem(key);
          },
          () => legacyWrite(key, fn(legacyValue(key))),
        );
      } finally {
        if (inflight.get(key) === mark) inflight.delete(key);
      }
    },
    saveJournal: () => {
      if (inflight.size === 0 || !journal) return;
      try {
        journal.setItem(JOURNAL_KEY, JSON.stringify([...inflight].map(([k, m]) => [k, m.value])));
      } catch {
        // sessionStorage full too: the IndexedDB writes may still complete.
      }
    },
  };
}

function safeStorage(name: 'localStorage' | 'sessionStorage'): Storage | null {
  try {
    return globalThis[name] ?? null;
  } catch {
    return null;
  }
}

export function safeLocalStorage(): Storage | null {
  return safeStorage('localStorage');
}
