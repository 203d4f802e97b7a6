import type { Limiter } from '../limiter/limiter.js';

/**
 * Refills added in several steps drift below the exact sum in floating point (2/60 a second
 * over 29.999 s and then 0.001 s is 0.9999999999999999 tokens, not 1): a bucket owed exactly
 * one token would refuse it and ask to retry in a second. A token counts as whole this close.
 */
export const WHOLE_TOKEN_SLACK = 1e-9;

/**
 * Token buckets keyed by a string (a user, a client address). A bucket starts full with
 * `capacity` tokens and gains `perSecond` tokens a second, up to `capacity`. Pure: the
 * caller passes the time, so tests need no clock tricks.
 */
export class RateLimiter implements Limiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
  ) {}

  /** Takes one token for `key`; 0 when granted, else the milliseconds until one is available. */
  take(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.capacity, at: now };
      this.buckets.set(key, b);
    } else if (now > b.at) {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens >= 1 - WHOLE_TOKEN_SLACK) {
      b.tokens = Math.max(0, b.tokens - 1);
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) / this.perSecond) * 1000));
  }

  /** Gives one token back (an op that took it did not happen), up to the capacity. */
  refund(key: string, now: number): void {
    const b = this.buckets.get(key);
    // No bucket: it was pruned as full, so there is nothing to give back.
    if (!b) return;
    if (now > b.at) {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    b.tokens = Math.min(this.capacity, b.tokens + 1);
  }

  /** Forgets buckets that have refilled completely (they would start full anyway). */
  prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.capacity) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
