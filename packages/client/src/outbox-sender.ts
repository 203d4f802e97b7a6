import { ErrorCode, type ErrorFrame, type Feature, type SendFrame } from '@pigeon/protocol';
import { ClientErrorCode } from './errors.js';
import type { Outbox } from './outbox.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';

export interface SenderHost {
  /** The signed-in user's outbox, or null. */
  box(): Outbox | null;
  /** True while a connection is online (after `synced`). */
  online(): boolean;
  /** What the server enabled on the current connection. */
  features(): readonly Feature[];
  /** Writes on the online connection; false if that failed. */
  write(frame: SendFrame): boolean;
  /** The outbox changed: persist and tell the application. */
  changed(): void;
  /** Sends await their answer (true) or none does (false): the link's watchdog speeds up meanwhile. */
  busy(busy: boolean): void;
  /** No progress on the sends for too long: drop the connection (they go again on the next). */
  stalled(): void;
}

export interface SenderOptions {
  requestTimeoutMs: number;
  internalRetryMs: number;
  now: () => number;
}

/**
 * Moves the outbox onto the wire: pending items go out in order after `synced` (at most
 * `maxInFlight` awaiting their `sent`), `rate_limited` / `internal` pause sending and resend,
 * and a send that gets no answer at all drops the connection instead of holding the outbox.
 */
export class OutboxSender {
  private pauseTimer: TimerHandle = null;
  private pausedUntil = 0;
  private stallTimer: TimerHandle = null;

  constructor(
    private readonly o: SenderOptions,
    private readonly host: SenderHost,
  ) {}

  /** Sends pending messages, in order, while online and not paused. */
  pump(): void {
    const box = this.host.box();
    if (!box || !this.host.online()) return;
    // The pause timer alone decides: comparing clocks could refuse when the timer fires a
    // millisecond "early" by Date.now(), and nothing would pump again.
    if (this.pauseTimer !== null) return;
    for (const item of box.takeSendable()) {
      const frame: SendFrame = { t: 'send', id: item.id, to: item.to, body: item.body };
      // A server without `reply` ignores the field: the message still goes, without its quote.
      if (item.replyTo) frame.replyTo = { ...item.replyTo };
      if (item.files) {
        // Without `files` the server would drop the field and store a caption alone (or
        // refuse an empty one): the message fails instead, its attachments kept for a retry.
        if (!this.host.features().includes('files')) {
          box.markFailed(item.id, ClientErrorCode.unsupported, "the server did not enable 'files'");
          this.host.changed();
          continue;
        }
        frame.files = item.files.flatMap((f) => (f.file ? [f.file.id] : []));
      }
      this.host.write(frame);
    }
    if (this.stallTimer === null) this.armStallTimer();
  }

  /** `sent` arrived. */
  sent(id: string, ts: number): void {
    const box = this.host.box();
    if (!box) return;
    if (box.markSent(id, ts)) this.host.changed();
    this.armStallTimer();
    this.pump();
  }

  /** An entry of our own settled an item (maybe the one in flight): count it as progress. */
  progress(): void {
    this.armStallTimer();
    this.pump();
  }

  /** An `error` frame carrying the id of one of our sends. */
  error(frame: ErrorFrame & { id: string }): void {
    const box = this.host.box();
    if (!box) return;
    const action = box.onError(frame.id, frame.code, frame.message, frame.retryAfterMs);
    this.armStallTimer();
    if (action.kind === 'failed' || action.kind === 'reupload') this.host.changed();
    else if (action.kind === 'pause') {
      const ms =
        action.code === ErrorCode.rateLimited ? (action.retryAfterMs ?? 1000) : this.o.internalRetryMs;
      this.pause(ms);
    }
    this.pump();
  }

  /** The connection dropped: nothing is in flight; pending items go again after the next `synced`. */
  connectionLost(): void {
    this.host.box()?.resetInFlight();
    clearTimer(this.stallTimer);
    this.stallTimer = null;
    this.host.busy(false);
  }

  stop(): void {
    this.connectionLost();
    clearTimer(this.pauseTimer);
    this.pauseTimer = null;
  }

  private pause(ms: number): void {
    const until = this.o.now() + ms;
    // Several refusals (maxInFlight > 1) pause until the latest of their deadlines.
    if (this.pauseTimer !== null && until <= this.pausedUntil) return;
    this.pausedUntil = until;
    clearTimer(this.pauseTimer);
    this.pauseTimer = setTimer(() => {
      this.pauseTimer = null;
      this.pump();
    }, ms);
  }

  /**
   * A send that never gets `sent` or `error` (a stuck server, or an answer this client cannot
   * decode) would hold the outbox forever while pongs keep the watchdog happy: after
   * `requestTimeoutMs` without progress the connection is dropped and the sends go again.
   */
  private armStallTimer(): void {
    clearTimer(this.stallTimer);
    this.stallTimer = null;
    const inFlight = (this.host.box()?.inFlightCount ?? 0) > 0;
    this.host.busy(inFlight);
    if (!inFlight) return;
    this.stallTimer = setTimer(() => {
      this.stallTimer = null;
      this.host.stalled();
    }, this.o.requestTimeoutMs);
  }
}
