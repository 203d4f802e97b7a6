import crypto from 'node:crypto';
import { parseUserId } from '@pigeon/protocol';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'pigeon';

/** What a valid token stands for. */
export interface VerifiedToken {
  user: string;
  /** A host application's JWT: its user is created on first use. */
  host: boolean;
  /** Our own tokens' id (`jti`), for revoking this one token; null for host JWTs (and old tokens). */
  tokenId: string | null;
  /** Seconds since the epoch when the token expires. */
  expiresAt: number;
}

export interface TokenOptions {
  secret: string;
  ttlSec: number;
  hostSecret: string | null;
  /** The longest lifetime a host JWT may claim (`exp` − `iat`, or `exp` − now without `iat`). */
  hostMaxTtlSec: number;
  /** Time source in ms (tests move it instead of waiting for a token to expire). */
  clock: () => number;
}

/**
 * Session tokens: HS256 JWTs signed with PIGEON_SECRET (so they survive restarts and are
 * valid on every node that shares the secret), each with a random `jti` so that one token
 * can be revoked; plus host-application JWTs signed with PIGEON_JWT_SECRET.
 */
export class TokenService {
  private readonly key: Uint8Array;
  private readonly hostKey: Uint8Array | null;

  constructor(private readonly opts: TokenOptions) {
    this.key = new TextEncoder().encode(opts.secret);
    this.hostKey = opts.hostSecret === null ? null : new TextEncoder().encode(opts.hostSecret);
  }

  private nowSec(): number {
    return Math.floor(this.opts.clock() / 1000);
  }

  /** A fresh token for `user`; `claims` are extra payload fields (e.g. the user's token epoch). */
  issue(user: string, claims: Record<string, unknown> = {}): Promise<string> {
    const now = this.nowSec();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(user)
      .setJti(crypto.randomBytes(16).toString('base64url'))
      .setIssuedAt(now)
      .setExpirationTime(now + this.opts.ttlSec)
      .sign(this.key);
  }

  /**
   * What the token stands for, or null when it is invalid or expired (revocation is
   * checked by the caller against the store). Host JWTs must carry `exp`, no further
   * than PIGEON_JWT_MAX_TTL from `iat` (or from now): a host token without an end would
   * be a password that can never be changed.
   */
  async verify(token: string): Promise<(VerifiedToken & { payload: JWTPayload }) | null> {
    const currentDate = new Date(this.opts.clock());
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        currentDate,
        requiredClaims: ['exp'],
      });
      const user = parseUserId(payload.sub);
      // Tokens issued before revocation existed have no jti: they stay valid until they
      // expire or their user signs out everywhere.
      const tokenId = typeof payload.jti === 'string' ? payload.jti : null;
      if (user) return { user, host: false, tokenId, expiresAt: payload.exp as number, payload };
    } catch {
      // not one of ours: maybe the host application's
    }
    if (!this.hostKey) return null;
    try {
      // jose honours exp and nbf; requiredClaims makes exp mandatory.
      const { payload } = await jwtVerify(token, this.hostKey, {
        algorithms: ['HS256'],
        currentDate,
        requiredClaims: ['exp'],
      });
      const exp = payload.exp as number;
      const from = typeof payload.iat === 'number' ? payload.iat : this.nowSec();
      if (exp - from > this.opts.hostMaxTtlSec) return null;
      const user = parseUserId(payload.sub);
      return user ? { user, host: true, tokenId: null, expiresAt: exp, payload } : null;
    } catch {
      return null;
    }
  }
}
