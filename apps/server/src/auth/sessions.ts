import type { Store, UserRecord } from '../store/store.js';
import type { TokenService } from './tokens.js';

/** A token that is valid now: signed, unexpired, and not revoked. */
export interface Session {
  user: string;
  /** A host application's JWT (its user is created on first use; it cannot be revoked here). */
  host: boolean;
  /** Our token's `jti` (null for host JWTs and tokens issued before revocation existed). */
  tokenId: string | null;
  /** The user's token epoch the token was issued in (0 for tokens issued before epochs). */
  epoch: number;
  /** Seconds since the epoch when the token expires. */
  expiresAt: number;
  /** The account as read while checking (null only for a host user not created yet). */
  record: UserRecord | null;
}

/**
 * Session tokens checked against the store, so that they can be revoked: a token is
 * revoked when its user's token epoch moved past the one it carries (sign out everywhere,
 * password change) or when its own id was revoked (sign out). Both records live in the
 * store, so revocation holds across restarts and on every node.
 */
export class Sessions {
  constructor(
    private readonly tokens: TokenService,
    private readonly store: Store,
  ) {}

  /** The session a token stands for, or null when it is invalid, expired or revoked. */
  async check(token: string): Promise<Session | null> {
    const verified = await this.tokens.verify(token);
    if (!verified) return null;
    const record = await this.store.getUser(verified.user);
    if (verified.host) {
      return {
        user: verified.user,
        host: true,
        tokenId: null,
        epoch: 0,
        expiresAt: verified.expiresAt,
        record,
      };
    }
    if (!record) return null;
    const epoch = typeof verified.payload.epoch === 'number' ? verified.payload.epoch : 0;
    if (epoch !== record.tokenEpoch) return null;
    if (verified.tokenId !== null && (await this.store.isTokenRevoked(verified.tokenId))) return null;
    return {
      user: verified.user,
      host: false,
      tokenId: verified.tokenId,
      epoch,
      expiresAt: verified.expiresAt,
      record,
    };
  }

  /** A fresh token for `user`, valid until its epoch moves on. */
  issue(user: string, epoch: number): Promise<string> {
    return this.tokens.issue(user, { epoch });
  }

  /** Whether a session checked earlier is still valid (same rules as check, from the store). */
  async stillValid(session: Pick<Session, 'user' | 'host' | 'tokenId' | 'epoch'>): Promise<boolean> {
    if (session.host) return true;
    const record = await this.store.getUser(session.user);
    if (!record || record.tokenEpoch !== session.epoch) return false;
    return session.tokenId === null || !(await this.store.isTokenRevoked(session.tokenId));
  }
}
