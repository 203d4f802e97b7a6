import { LIMITS } from '@pigeon/protocol';
import { RateLimiter } from '../auth/rate-limiter.js';

/** One typing notice per sender→recipient per this many ms (extras are dropped, as the spec allows). */
export const TYPING_INTERVAL_MS = LIMITS.typingIntervalMs;
/**
 * Besides, a sender's notices to all recipients together: a bucket of this many that
 * gains this many per TYPING_INTERVAL_MS, so spraying every online user is bounded too.
 */
const SENDER_BURST = 10;

/**
 * Decides which typing notices are forwarded. Typing is ephemeral and the spec lets the
 * server drop it, so the answer to "too many" is silence, not an error.
 */
export class TypingThrottle {
  private readonly last = new Map<string, number>();
  private readonly perSender = new RateLimiter(SENDER_BURST, (SENDER_BURST * 1000) / TYPING_INTERVAL_MS);
  private lastPrune = 0;

  constructor(private readonly clock: () => number) {}

  /** True when `from`'s notice to `to` should be forwarded now (and counts it). */
  allow(from: string, to: string): boolean {
    const now = this.clock();
    this.prune(now);
    const key = `${from}\n${to}`;
    const at = this.last.get(key);
    if (at !== undefined && now - at < TYPING_INTERVAL_MS) return false;
    if (this.perSender.take(from, now) > 0) return false;
    this.last.set(key, now);
    return true;
  }

  /** Forgets pairs whose interval is over, at most once per interval (so the map stays small). */
  private prune(now: number): void {
    if (now - this.lastPrune < TYPING_INTERVAL_MS) return;
    this.lastPrune = now;
    for (const [key, at] of this.last) if (now - at >= TYPING_INTERVAL_MS) this.last.delete(key);
    this.perSender.prune(now);
  }

  get size(): number {
    return this.last.size;
  }
}
