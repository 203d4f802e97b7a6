import type { ErrorFrame, Feature, SendFrame } from '@pigeon/protocol';
import { ClientErrorCode } from './errors.js';
import type { Outbox } from './outbox.js';
import { RetryPause, retryDelay, StallWatch } from './sender-timers.js';

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
  private readonly retry: RetryPause;
  private readonly stall: StallWatch;

  constructor(
    private readonly o: SenderOptions,
    private readonly host: SenderHost,
  ) {
    this.retry = new RetryPause(
      () => o.now(),
      () => this.pump(),
    );
    this.stall = new StallWatch(
      () => o.requestTimeoutMs,
      () => host.stalled(),
    );
  }

  /** Sends pending messages, in order, while online and not paused. */
  pump(): void {
    const box = this.host.box();
    if (!box || !this.host.online()) return;
    if (this.retry.paused) return;
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
    if (!this.stall.armed) this.armStallTimer();
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
      this.retry.pause(retryDelay(action.code, action.retryAfterMs, this.o.internalRetryMs));
    }
    this.pump();
  }

  /** The connection dropped: nothing is in flight; pending items go again after the next `synced`. */
  connectionLost(): void {
    this.host.box()?.resetInFlight();
    this.stall.clear();
    this.host.busy(false);
  }

  stop(): void {
    this.connectionLost();
    this.retry.clear();
  }

  /** Sends in flight: a send without any answer for `requestTimeoutMs` drops the connection. */
  private armStallTimer(): void {
    const inFlight = (this.host.box()?.inFlightCount ?? 0) > 0;
    this.host.busy(inFlight);
    this.stall.arm(inFlight);
  }
}
