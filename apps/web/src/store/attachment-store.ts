import { type AttachmentStore, type BlobLike, memoryAttachments } from '@pigeon/client';
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

/**
 * Where the outbox keeps the bytes of attachments until they are uploaded and their message
 * is stored: IndexedDB (a database of its own, `pigeon-files`, so the key-value database of
 * browser-storage.ts never needs an upgrade), which holds Blobs as they are and survives a
 * reload or a browser restart: an attachment written offline goes out when the network is
 * back, and a large upload resumes from the server's offset instead of starting over.
 * Without IndexedDB (some private modes) the bytes stay in memory, for this tab's life.
 */
export function indexedDbAttachments(
  indexedDb: IDBFactory | null = globalThis.indexedDB ?? null,
): AttachmentStore {
  const memory = memoryAttachments();
  if (!indexedDb) return memory;
  let store: UseStore | null = null;
  let unavailable = false;
  const db = () => {
    store ??= createStore('pigeon-files', 'blobs');
    return store;
  };
  async function run<T>(op: (s: UseStore) => Promise<T>, otherwise: () => T | Promise<T>): Promise<T> {
    if (unavailable) return otherwise();
    try {
      return await op(db());
    } catch (err) {
      // Cannot open at all: memory from now on. A failed write on a working database (quota)
      // reaches the client, which keeps the message failed rather than lose its bytes silently.
      if (
        err instanceof DOMException &&
        ['InvalidStateError', 'UnknownError', 'SecurityError'].includes(err.name)
      ) {
        unavailable = true;
        return otherwise();
      }
      throw err;
    }
  }
  return {
    put: (key, blob) =>
      run(
        (s) => set(key, blob, s),
        () => memory.put(key, blob),
      ),
    get: (key) =>
      run(
        async (s) => (await get<BlobLike>(key, s)) ?? (await memory.get(key)) ?? null,
        () => memory.get(key),
      ),
    remove: (key) =>
      run(
        async (s) => {
          await del(key, s);
          await memory.remove(key);
        },
        () => memory.remove(key),
      ),
  };
}

let page: AttachmentStore | null = null;

/** The page's one attachment store (the client's, and the log's previews of uploads after a reload). */
export function pageAttachments(): AttachmentStore {
  page ??= indexedDbAttachments();
  return page;
}
