import type { KeyValueStorage } from '@pigeon/client';
import { createStore, del, get, promisifyRequest, set, type UseStore } from 'idb-keyval';

/**
 * Where the client keeps the session, each user's outbox and cursor, and where the app keeps
 * unread counts, read marks and drafts: IndexedDB (through idb-keyval, a small, well-kept
 * wrapper), not localStorage. localStorage holds about 5 MB for the whole origin and throws
 * when full, which used to lose an outbox write; IndexedDB's quota is a share of the disk,
 * its writes are transactional, and it can hold attachments later. Values stay strings, as
 * the client's storage interface defines them.
 *
 * Older versions of the app kept these keys in localStorage: a key not found in IndexedDB is
 * read from there, and moved over by the next write (which removes the old copy). When
 * IndexedDB cannot be opened at all (some private modes), localStorage is used as before.
 */
export interface BrowserStorage extends KeyValueStorage {
  /** Atomic read-modify-write of one key in one transaction (other tabs write the outbox too). */
  update(key: string, fn: (current: string | null) => string | null): Promise<void>;
}

/** Errors with which IndexedDB refuses to open at all, rather than failing one write. */
const UNAVAILABLE = new Set(['InvalidStateError', 'UnknownError', 'SecurityError', 'NotSupportedError']);

export function browserStorage(
  dbName = 'pigeon',
  legacy: Storage | null = safeLocalStorage(),
  indexedDb: IDBFactory | null = globalThis.indexedDB ?? null,
): BrowserStorage {
  const fallback: BrowserStorage = {
    get: (key) => legacy?.getItem(key) ?? null,
    set: async (key, value) => legacy?.setItem(key, value),
    remove: async (key) => legacy?.removeItem(key),
    update: async (key, fn) => {
      const next = fn(legacy?.getItem(key) ?? null);
      if (next === null) legacy?.removeItem(key);
      else legacy?.setItem(key, next);
    },
  };
  if (!indexedDb) return fallback;
  const store: UseStore = createStore(dbName, 'kv');
  let unavailable = false;
  /** Runs `op` on IndexedDB; falls back to localStorage for good if the database cannot open. */
  async function run<T>(op: () => Promise<T>, otherwise: () => Promise<T> | T): Promise<T> {
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
  const legacyValue = (key: string) => legacy?.getItem(key) ?? null;
  return {
    get: (key) =>
      run(
        async () => {
          const value = await get<unknown>(key, store);
          return typeof value === 'string' ? value : legacyValue(key);
        },
        () => fallback.get(key) as string | null,
      ),
    set: (key, value) =>
      run(
        async () => {
          await set(key, value, store);
          legacy?.removeItem(key);
        },
        () => fallback.set(key, value),
      ),
    remove: (key) =>
      run(
        async () => {
          await del(key, store);
          legacy?.removeItem(key);
        },
        () => fallback.remove(key),
      ),
    update: (key, fn) =>
      run(
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
                    const next = fn(typeof stored === 'string' ? stored : legacyValue(key));
                    if (next === null) os.delete(key);
                    else os.put(next, key);
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
        () => fallback.update(key, fn),
      ),
  };
}

export function safeLocalStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
