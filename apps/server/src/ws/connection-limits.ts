import { TooManyReason } from '@pigeon/protocol';
import { RateLimiter } from '../auth/rate-limiter.js';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { UserLists } from '../router/user-lists.js';

/** The limits that refuse a connection, as counted in `pigeon_limit_hits_total{limit}`. */
export type ConnectionLimit = 'conns_per_user' | 'conns_per_ip' | 'hello_rate_user' | 'hello_rate_ip';

/** Why a connection is refused: the limit (for metrics and logs) and the close reason (4029). */
export interface Refusal {
  limit: ConnectionLimit;
  reason: TooManyReason;
}

/** Something counted against a user's cap (a connection after its hello). */
export interface UserConnection {
  readonly user: string;
  /** Bytes written to this connection and not yet on the wire. */
  unsent(): number;
}

/**
 * Per-address and per-user bookkeeping of WebSocket connections on this node: open
 * sockets per client address (from the upgrade on), open connections per user (from the
 * hello on), and the hello token buckets. Checked in the order of what each check costs
 * an attacker nothing to trigger: address cap at the upgrade, address hello rate before
 * the token is verified, user hello rate and user cap after it.
 */
export class ConnectionLimits {
  private readonly perIp = new Map<string, number>();
  private readonly perUser = new UserLists<UserConnection>();
  private readonly helloIp: RateLimiter;
  private readonly helloUser: RateLimiter;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly config: Pick<
      Config,
      'maxConnsPerIp' | 'maxConnsPerUser' | 'helloRateIp' | 'helloRateUser' | 'clock'
    >,
    private readonly metrics: Metrics,
  ) {
    // "N a minute": a bucket that holds N and gains N/60 a second.
    this.helloIp = new RateLimiter(config.helloRateIp, config.helloRateIp / 60);
    this.helloUser = new RateLimiter(config.helloRateUser, config.helloRateUser / 60);
    this.pruneTimer = setInterval(() => {
      const now = config.clock();
      this.helloIp.prune(now);
      this.helloUser.prune(now);
    }, 60_000);
    this.pruneTimer.unref();
  }

  private refuse(limit: ConnectionLimit, reason: TooManyReason): Refusal {
    this.metrics.limitHits.labels(limit).inc();
    return { limit, reason };
  }

  /** A socket from `ip` was upgraded; null when it may stay, else why it must go (it is not counted then). */
  openSocket(ip: string): Refusal | null {
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.config.maxConnsPerIp) {
      return this.refuse('conns_per_ip', TooManyReason.addressConnections);
    }
    this.perIp.set(ip, n + 1);
    return null;
  }

  closeSocket(ip: string): void {
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
  }

  /** Takes a hello token of the address. */
  helloFromIp(ip: string): Refusal | null {
    const wait = this.helloIp.take(ip, this.config.clock());
    if (wait === 0) return null;
    return this.refuse('hello_rate_ip', TooManyReason.helloRate);
  }

  /** Takes a hello token of the user, then checks the user's cap; on success the connection counts. */
  admitUser(conn: UserConnection): Refusal | null {
    const wait = this.helloUser.take(conn.user, this.config.clock());
    if (wait > 0) {
      return this.refuse('hello_rate_user', TooManyReason.helloRate);
    }
    if (this.perUser.of(conn.user).length >= this.config.maxConnsPerUser) {
      return this.refuse('conns_per_user', TooManyReason.userConnections);
    }
    this.perUser.add(conn.user, conn);
    return null;
  }

  releaseUser(conn: UserConnection): void {
    this.perUser.remove(conn.user, conn);
  }

  /** The open connections of `user` on this node (a snapshot: closing them does not change it). */
  connectionsOf(user: string): readonly UserConnection[] {
    return this.perUser.of(user);
  }

  /** Unsent bytes of all of `user`'s connections together. */
  unsentOf(user: string): number {
    let total = 0;
    for (const c of this.connectionsOf(user)) total += c.unsent();
    return total;
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }
}
