import type { AttachmentStore, BlobLike } from './file-types.js';
import type { KeyValueStorage } from './platform-types.js';

/** A `KeyValueStorage` that answers at once (memory, localStorage): its calls never return a promise. */
export interface SyncStorage extends KeyValueStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** Keeps everything in a Map: for tests and short-lived bots (nothing survives a restart). */
export function memoryStorage(
  initial?: Record<string, string>,
): SyncStorage & { dump(): Record<string, string> } {
  const map = new Map<string, string>(Object.entries(initial ?? {}));
  return {
    get: (key) => map.get(key) ?? null,
    set: (key, value) => {
      map.set(key, value);
    },
    remove: (key) => {
      map.delete(key);
    },
    dump: () => Object.fromEntries(map),
  };
}

/** The subset of the DOM's `Storage` (localStorage) used here, typed structurally so no DOM types leak. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Adapts `localStorage` (or `sessionStorage`) to `KeyValueStorage`. */
export function localStorageAdapter(storage: StorageLike): SyncStorage {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    remove: (key) => storage.removeItem(key),
  };
}

/** Attachments kept in a Map until uploaded: lost with the process (the default; the web app uses IndexedDB). */
export function memoryAttachments(): AttachmentStore {
  const map = new Map<string, BlobLike>();
  return {
    put: (key, blob) => {
      map.set(key, blob);
    },
    get: (key) => map.get(key) ?? null,
    remove: (key) => {
      map.delete(key);
    },
  };
}
