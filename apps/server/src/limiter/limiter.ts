/**
 * A token-bucket rate limit keyed by a string (a user, a client address). The in-memory
 * implementation (`auth/rate-limiter.ts`) serves one process; a Redis one shares the
 * buckets between nodes, which is why both methods may answer with a Promise. The caller
 * passes the time, so tests need no clock tricks.
 */
export interface Limiter {
  /**
   * Takes one token for `key`: 0 when granted, else the milliseconds until one is
   * available (nothing taken). Rejects only when the limiter itself fails.
   */
  take(key: string, now: number): number | Promise<number>;
  /**
   * Gives back one token that `take` granted, for an operation that then did not happen
   * (its commit failed, or it turned out to be a duplicate), never beyond the capacity.
   */
  refund(key: string, now: number): void | Promise<void>;
  /** Forgets what no longer matters (full buckets); called once a minute by an in-process owner. */
  prune?(now: number): void;
}
