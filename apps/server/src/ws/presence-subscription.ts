import { LIMITS } from '@pigeon/protocol';
import { RateLimiter } from '../auth/rate-limiter.js';
import type { PresenceTarget } from '../router/presence.js';
import type { ConnectionContext } from './mailbox-connection.js';

/**
 * One connection's presence subscription, paced by its budget (PROTOCOL.md "Presence
 * subscriptions"): a list is applied now if the bucket has a token, else kept as the
 * pending one (a newer list replaces it) and applied once a token is there. A client that
 * resubscribes in a loop costs one subscription per interval, and an honest client's last
 * list always takes effect.
 */
export class PresenceSubscription {
  private readonly bucket = new RateLimiter(LIMITS.presenceBurst, 1000 / LIMITS.presenceIntervalMs);
  /** A list waiting for the budget (the latest one wins). */
  private waiting: readonly string[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly target: PresenceTarget,
    /** Told before a list is applied (the block filter starts the new list afresh). */
    private readonly beforeWatch: () => void,
  ) {}

  /** A list is waiting for the budget. */
  get pending(): boolean {
    return this.waiting !== null;
  }

  /**
   * Applies `users` (or, with null, the waiting list) when the budget allows. With Redis the
   * watch may take a round trip: its promise is returned, so the next frame waits for it.
   */
  subscribe(users: readonly string[] | null): Promise<void> | undefined {
    if (users) this.waiting = users;
    const list = this.waiting;
    if (!list || this.closed) return;
    const wait = this.bucket.take('', this.ctx.clock());
    if (wait === 0) {
      this.waiting = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.beforeWatch();
      return this.ctx.presence.watch(this.target, list);
    }
    if (users) this.ctx.metrics.limitHits.labels('presence_rate').inc();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      // Nothing waits on a list applied from the timer (no frame of this connection is
      // behind it) and a watch's promise never rejects.
      void this.subscribe(null);
    }, wait);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting = null;
  }
}
