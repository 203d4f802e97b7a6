import type { KeyValueStorage } from '@pigeon/client';
import { browserStorage } from './browser-storage';

/**
 * The page's one storage (IndexedDB, see browser-storage.ts), shared by the client and the
 * app. Created on first use, so tests that never touch it open no database.
 */
let kv: KeyValueStorage | null = null;

export function storage(): KeyValueStorage {
  if (!kv) {
    const created = browserStorage();
    // Writes a reload would interrupt are kept for the next start (see browser-storage.ts).
    addEventListener('pagehide', () => created.saveJournal());
    kv = created;
  }
  return kv;
}

/**
 * The key under which the client keeps the signed-in session (`DEFAULTS.storagePrefix` +
 * `session`, see packages/client/README.md "Storage"; a unit test holds the two equal). Read
 * by startup.ts to decide, without loading the client, whether to show the sign-in page.
 */
export const SESSION_KEY = 'pigeon:session';
