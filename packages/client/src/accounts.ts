import { HttpErrorCode, parseUserId } from '@pigeon/protocol';
import { Account } from './account.js';
import type { ClientEmitter } from './client-events.js';
import { ClientErrorCode, PigeonHttpError, PigeonRequestError } from './errors.js';
import { changePassword, revoke } from './http.js';
import type { ResolvedOptions } from './options.js';
import { parseStoredSession } from './stored-shapes.js';
import type { LogoutOptions, Session } from './types.js';

function storageFailed(action: string, error: unknown): PigeonRequestError {
  if (error instanceof PigeonRequestError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new PigeonRequestError(ClientErrorCode.storageFailed, `cannot ${action}: ${why}`);
}

export interface AccountsHooks {
  /** Closes the connection (a switch of user, a sign-out). */
  stop(): void;
  /** A new account's stored state is loaded: show its outbox, send what is pending. */
  loaded(): void;
  /** The account is gone (signed out): show an empty outbox. */
  cleared(): void;
}

/**
 * Who is signed in: the saved session (`<prefix>session`) and the current Account. Switching
 * user saves the previous user's state under their own keys first; signing out never forgets
 * an unsent message that is not safely stored.
 */
export class Accounts {
  current: Account | null = null;
  /** Resolves once the current account's stored state is read. */
  loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: ResolvedOptions,
    private readonly events: ClientEmitter,
    private readonly hooks: AccountsHooks,
  ) {}

  private get sessionKey(): string {
    return `${this.o.storagePrefix}session`;
  }

  async restore(): Promise<Session | null> {
    let text: string | null | undefined;
    try {
      text = await this.o.storage.get(this.sessionKey);
    } catch (err) {
      throw storageFailed('read the saved session', err);
    }
    const stored = parseStoredSession(text);
    const user = stored ? parseUserId(stored.user) : null;
    // A session belongs to the server that issued it.
    if (!stored || !user || (stored.server !== undefined && stored.server !== this.o.server)) return null;
    await this.set({ user, token: stored.token }, false);
    return { user, token: stored.token };
  }

  async set(session: Session, persist = true): Promise<void> {
    const previous = this.current;
    if (previous && previous.user !== session.user) {
      // The previous user's last changes go to the previous user's keys, then they are gone.
      this.hooks.stop();
      await this.settle(previous, 'save the previous user');
      previous.persistence.dispose();
      this.current = null;
    }
    if (this.current) {
      this.current.token = session.token;
    } else {
      const account = new Account(session.user, session.token, this.o, (message) =>
        this.events.error(ClientErrorCode.storageFailed, message),
      );
      this.current = account;
      this.loading = account.load();
      try {
        await this.loading;
      } catch (err) {
        if (this.current === account) this.current = null;
        throw err;
      }
      this.hooks.loaded();
    }
    if (!persist) return;
    try {
      await this.o.storage.set(this.sessionKey, JSON.stringify({ ...session, server: this.o.server }));
    } catch (err) {
      // Signed in all the same; only a reload will ask for the password again.
      this.events.error(ClientErrorCode.storageFailed, storageFailed('save the session', err).message);
    }
  }

  /** Waits until the account's received entries are processed and its state is written. */
  async settle(account: Account, action: string): Promise<void> {
    await account.inbox.idle();
    try {
      await account.persistence.written();
    } catch (err) {
      throw storageFailed(action, err);
    }
  }

  /** `POST /api/password`; the fresh token replaces this device's (and is saved). */
  async changePassword(password: string, newPassword: string): Promise<void> {
    const account = this.current;
    if (!account) throw new PigeonRequestError(ClientErrorCode.noSession, 'log in first');
    const fetch = this.fetchOrThrow();
    const o = this.o;
    const session = await changePassword(
      fetch,
      o.server,
      account.token,
      password,
      newPassword,
      o.requestTimeoutMs,
    );
    if (this.current === account) await this.set(session);
  }

  private fetchOrThrow() {
    if (!this.o.fetch) {
      throw new PigeonRequestError(ClientErrorCode.invalidArgument, 'no fetch available: pass options.fetch');
    }
    return this.o.fetch;
  }

  async logout(options: LogoutOptions): Promise<void> {
    const account = this.current;
    if (account && options.revoke) {
      try {
        await revoke(
          this.fetchOrThrow(),
          this.o.server,
          options.revoke,
          account.token,
          this.o.requestTimeoutMs,
        );
      } catch (err) {
        // A token the server already refuses is as good as revoked; anything else is not.
        if (!(err instanceof PigeonHttpError && err.code === HttpErrorCode.unauthorized)) throw err;
      }
    }
    const clearData = options.clearData === true;
    this.hooks.stop();
    if (account) {
      if (clearData) await account.persistence.clear();
      // Never forget an unsent message that is not safely stored: keep the session instead.
      else await this.settle(account, 'save the outbox');
    }
    try {
      await this.o.storage.remove(this.sessionKey);
    } catch (err) {
      throw storageFailed('remove the saved session', err);
    }
    account?.persistence.dispose();
    if (this.current === account) this.current = null;
    this.hooks.cleared();
  }
}
