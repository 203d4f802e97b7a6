import { ErrorCode } from '@pigeon/protocol';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';

/** How long a transient refusal pauses sending: the server's `retryAfterMs` for `rate_limited`, else `internalMs`. */
export function retryDelay(code: string, retryAfterMs: number | undefined, internalMs: number): number {
  return code === ErrorCode.rateLimited ? (retryAfterMs ?? 1000) : internalMs;
}

/**
 * Sending paused after a transient refusal (the outbox's sends, the chat writes): several
 * refusals pause until the latest of their deadlines, then `resume` runs. The timer alone
 * says whether it is paused: comparing clocks could refuse when the timer fires a
 * millisecond "early" by Date.now(), and nothing would resume again.
 */
export class RetryPause {
  private timer: TimerHandle = null;
  private until = 0;

  constructor(
    private readonly now: () => number,
    private readonly resume: () => void,
  ) {}

  get paused(): boolean {
    return this.timer !== null;
  }

  pause(ms: number): void {
    const until = this.now() + ms;
    if (this.timer !== null && until <= this.until) return;
    this.until = until;
    clearTimer(this.timer);
    this.timer = setTimer(() => {
      this.timer = null;
      this.resume();
    }, ms);
  }

  clear(): void {
    clearTimer(this.timer);
    this.timer = null;
  }
}

/**
 * A request that never gets an answer (a stuck server, or an answer this client cannot
 * decode) would hold its queue forever while pongs keep the watchdog happy: while anything
 * is in flight, no progress for `ms()` calls `stalled` (the connection is dropped and it all
 * goes again).
 */
export class StallWatch {
  private timer: TimerHandle = null;

  constructor(
    private readonly ms: () => number,
    private readonly stalled: () => void,
  ) {}

  get armed(): boolean {
    return this.timer !== null;
  }

  /** Progress: starts the wait afresh while `busy`, stops it otherwise. */
  arm(busy: boolean): void {
    this.clear();
    if (!busy) return;
    this.timer = setTimer(() => {
      this.timer = null;
      this.stalled();
    }, this.ms());
  }

  clear(): void {
    clearTimer(this.timer);
    this.timer = null;
  }
}
