import { LIMITS, parseUserId } from '@pigeon/protocol';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { Inbox } from './inbox.js';
import type { ResolvedOptions } from './options.js';
import { Outbox } from './outbox.js';
import { loadUser, UserPersistence, userKeys } from './persistence.js';
import { WriteQueue } from './writes.js';

/**
 * Everything that belongs to one signed-in user: their outbox, inbox position and its
 * persistence. A sign-in as another user gets a new Account, so nothing of one user (an
 * unsent message above all) can ever go out under another user's name.
 */
export class Account {
  readonly box: Outbox;
  readonly inbox: Inbox;
  /** Writes (edit, react, block...) and read marks waiting for the server's `ok`. */
  readonly writes = new WriteQueue();
  readonly persistence: UserPersistence;
  /** The presence subscription, re-sent after every reconnect. */
  presence: string[] = [];
  /** When `typing` last went out per recipient (throttle). */
  readonly typingSentAt = new Map<string, number>();

  constructor(
    readonly user: string,
    public token: string,
    private readonly o: ResolvedOptions,
    onStorageError: (message: string) => void,
  ) {
    this.box = new Outbox(o.keepSettled, o.maxInFlight);
    this.inbox = new Inbox(o);
    this.persistence = new UserPersistence(
      o.storage,
      userKeys(o.storagePrefix, user),
      {
        outbox: (stored) => this.box.forStorage(stored),
        cursor: () => this.inbox.cursor,
        writes: (stored) => this.writes.forStorage(stored),
      },
      { retryMs: o.storageRetryMs, maxRetryMs: o.backoff.maxMs, onError: onStorageError },
    );
  }

  /** Reads the stored outbox, cursor and writes (rejects `storage_failed` if storage cannot be read). */
  async load(): Promise<void> {
    const stored = await loadUser(this.o.storage, userKeys(this.o.storagePrefix, this.user));
    this.box.load(stored.outbox);
    this.writes.load(stored.writes);
    if (this.inbox.cursor === null) this.inbox.cursor = stored.cursor;
  }
}

/** A presence subscription: valid ids, lowercased, without repeats, at most `presenceMaxUsers`. */
export function presenceList(users: readonly string[]): string[] {
  const ids: string[] = [];
  for (const u of users) {
    const id = parseUserId(u);
    if (!id) throw new PigeonRequestError(ClientErrorCode.invalidArgument, `not a user id: ${u}`);
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length > LIMITS.presenceMaxUsers) {
    throw new PigeonRequestError(ClientErrorCode.invalidArgument, `at most ${LIMITS.presenceMaxUsers} users`);
  }
  return ids;
}
