import { clearTimer, setTimer, type TimerHandle } from './runtime.js';

/**
 * Collects processed cursors and hands the latest one to `flushTo` at most `delayMs` after
 * the first unflushed one, or at once when `batch` have piled up. Acks are cumulative, so
 * only the latest cursor matters.
 */
export class AckBatcher {
  private latest: string | null = null;
  private count = 0;
  private timer: TimerHandle = null;

  constructor(
    private readonly flushTo: (cursor: string) => void,
    private readonly delayMs: number,
    private readonly batch: number,
  ) {}

  processed(cursor: string): void {
    this.latest = cursor;
    this.count++;
    if (this.count >= this.batch) this.flush();
    else if (this.timer === null) this.timer = setTimer(() => this.flush(), this.delayMs);
  }

  /** Hands over the latest unflushed cursor now, if any. */
  flush(): void {
    clearTimer(this.timer);
    this.timer = null;
    const cursor = this.latest;
    this.latest = null;
    this.count = 0;
    if (cursor !== null) this.flushTo(cursor);
  }
}
