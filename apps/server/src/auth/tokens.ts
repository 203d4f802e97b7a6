import { parseUserId } from '@pigeon/protocol';
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'pigeon';

/** Session tokens: HS256 JWTs signed with PIGEON_SECRET (so they survive restarts), plus host-app JWTs. */
export class TokenService {
  private readonly key: Uint8Array;
  private readonly hostKey: Uint8Array | null;

  constructor(
    secret: string,
    private readonly ttlSec: number,
    hostSecret: string | null,
  ) {
    this.key = new TextEncoder().encode(secret);
    this.hostKey = hostSecret === null ? null : new TextEncoder().encode(hostSecret);
  }

  issue(user: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSec)
      .sign(this.key);
  }

  /**
   * The user a token stands for, or null when it is invalid or expired. `host` says it is
   * a host application's JWT, whose user is created on first use.
   */
  async verify(token: string): Promise<{ user: string; host: boolean } | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER });
      const user = parseUserId(payload.sub);
      if (user) return { user, host: false };
    } catch {
      // not one of ours: maybe the host application's
    }
    if (!this.hostKey) return null;
    try {
      // jose honours exp and nbf.
      const { payload } = await jwtVerify(token, this.hostKey, { algorithms: ['HS256'] });
      const user = parseUserId(payload.sub);
      return user ? { user, host: true } : null;
    } catch {
      return null;
    }
  }
}
