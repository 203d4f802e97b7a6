import { ClientErrorCode, PigeonRequestError } from './errors.js';
import type { KeyValueStorage } from './platform-types.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';
import { parseStoredOutbox, parseStoredWrites } from './stored-shapes.js';
import type { OutboxItem } from './types.js';
import type { StoredWrites } from './writes.js';

/** What one signed-in user keeps in storage. */
export type UserKey = 'outbox' | 'cursor' | 'writes';

export type UserKeys = Record<UserKey, string>;

export function userKeys(prefix: string, user: string): UserKeys {
  const base = `${prefix}u:${user}:`;
  return { outbox: `${base}outbox`, cursor: `${base}cursor`, writes: `${base}writes` };
}

/** The current in-memory state, read at write time so every write stores the latest value. */
export interface UserSnapshot {
  /** The outbox to store, given what is stored now (merged, so other tabs' items survive). */
  outbox(stored: readonly OutboxItem[]): OutboxItem[];
  cursor(): string | null;
  /** The queued writes and read marks to store, merged the same way. */
  writes(stored: StoredWrites): StoredWrites;
}

export interface PersistenceOptions {
  /** First retry delay after a failed write; doubles per consecutive failure up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  onError(message: string): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads one user's stored outbox, cursor and writes; a storage failure rejects with `storage_failed`. */
export async function loadUser(
  storage: KeyValueStorage,
  keys: UserKeys,
): Promise<{ outbox: OutboxItem[]; cursor: string | null; writes: StoredWrites }> {
  try {
    const [outboxText, cursorText, writesText] = await Promise.all([
      storage.get(keys.outbox),
      storage.get(keys.cursor),
      storage.get(keys.writes),
    ]);
    return {
      outbox: parseStoredOutbox(outboxText),
      cursor: typeof cursorText === 'string' && cursorText.length > 0 ? cursorText : null,
      writes: parseStoredWrites(writesText),
    };
  } catch (err) {
    throw new PigeonRequestError(ClientErrorCode.storageFailed, `cannot read stored state: ${describe(err)}`);
  }
}

/**
 * Writes one user's outbox and cursor: coalesced (each key is written with its latest value,
 * one write at a time) and never given up: a failed write (a full quota, an I/O error) keeps
 * its key dirty and is retried with backoff, and the state stays in memory meanwhile, so
 * nothing is lost while the storage refuses.
 */
export class UserPersistence {
  private readonly dirty = new Set<UserKey>();
  /** True from the moment a write loop starts until it has seen nothing left to write. */
  private active = false;
  private loop: Promise<void> = Promise.resolve();
  private failure: string | null = null;
  private failures = 0;
  private retryTimer: TimerHandle = null;
  private disposed = false;

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly keys: UserKeys,
    private readonly snapshot: UserSnapshot,
    private readonly options: PersistenceOptions,
  ) {}

  /** The key's value changed: write it soon. */
  mark(key: UserKey): void {
    this.dirty.add(key);
    this.kick();
  }

  /**
   * Resolves once every change marked so far is written; rejects with `storage_failed` when a
   * write failed again and something is still unwritten (the retries go on regardless).
   */
  async written(): Promise<void> {
    // Someone waits for the storage: try a failed write again now rather than at the next retry.
    if (this.dirty.size > 0) this.kick();
    while (this.active) await this.loop;
    if (this.failure !== null && this.dirty.size > 0) {
      throw new PigeonRequestError(ClientErrorCode.storageFailed, this.failure);
    }
  }

  /** Removes this user's stored outbox and cursor, and writes nothing more. */
  async clear(): Promise<void> {
    this.dispose();
    while (this.active) await this.loop;
    try {
      await this.storage.remove(this.keys.outbox);
      await this.storage.remove(this.keys.cursor);
      await this.storage.remove(this.keys.writes);
    } catch (err) {
      throw new PigeonRequestError(
        ClientErrorCode.storageFailed,
        `cannot remove stored state: ${describe(err)}`,
      );
    }
  }

  /** Stops writing (the user signed out; their last state was awaited with `written`). */
  dispose(): void {
    this.disposed = true;
    clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  private kick(): void {
    if (this.active || this.disposed) return;
    this.active = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    clearTimer(this.retryTimer);
    this.retryTimer = null;
    while (this.dirty.size > 0 && !this.disposed) {
      const keys = [...this.dirty];
      this.dirty.clear();
      try {
        for (const key of keys) await this.write(key);
        this.failure = null;
        this.failures = 0;
      } catch (err) {
        for (const key of keys) this.dirty.add(key);
        this.failure = `could not persist client state: ${describe(err)}`;
        this.failures++;
        const delay = Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** (this.failures - 1));
        this.retryTimer = setTimer(() => {
          this.retryTimer = null;
          this.kick();
        }, delay);
        this.active = false;
        this.options.onError(this.failure);
        return;
      }
    }
    // Cleared in the same synchronous step as the last `dirty` check: a `mark` after this starts
    // a new loop, and none can slip in between and be left unwritten.
    this.active = false;
  }

  private async write(key: UserKey): Promise<void> {
    if (key === 'cursor') {
      const cursor = this.snapshot.cursor();
      if (cursor !== null) await this.storage.set(this.keys.cursor, cursor);
      return;
    }
    const serialize =
      key === 'outbox'
        ? (stored: string | null | undefined): string | null => {
            const items = this.snapshot.outbox(parseStoredOutbox(stored));
            return items.length > 0 ? JSON.stringify(items) : null;
          }
        : (stored: string | null | undefined): string | null => {
            const w = this.snapshot.writes(parseStoredWrites(stored));
            return w.writes.length > 0 || Object.keys(w.reads).length > 0 ? JSON.stringify(w) : null;
          };
    const storageKey = this.keys[key];
    if (this.storage.update) {
      await this.storage.update(storageKey, serialize);
      return;
    }
    const next = serialize(await this.storage.get(storageKey));
    if (next === null) await this.storage.remove(storageKey);
    else await this.storage.set(storageKey, next);
  }
}
