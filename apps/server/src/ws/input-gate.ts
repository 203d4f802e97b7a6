import type { WebSocket } from 'ws';
import type { FrameWriter } from './frame-writer.js';
import type { ConnectionContext } from './mailbox-connection.js';

/** Bytes of client frames read from one socket per event-loop turn before reading pauses. */
const INPUT_TURN_BUDGET = 256 * 1024;

/**
 * When one connection's socket is read: paused while a turn's input passed its budget,
 * while the answers to its pending requests (or its unsent output) are over their bounds,
 * while its queue of unhandled frames is long, and while the user's frame budget refills;
 * resumed once none of these holds. Pausing leaves a client's frames in its own and the
 * kernel's buffers, not in our memory.
 */
export class InputGate {
  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    private readonly out: FrameWriter,
    /** The connection (itself, not a closure over it: one less object per connection). */
    private readonly conn: { readonly isOpen: boolean },
  ) {}

  private closed(): boolean {
    return !this.conn.isOpen;
  }

  private inputBytes = 0;
  private inputTurnScheduled = false;
  private inputPaused = false;

  /**
   * Counts bytes read in this event-loop turn. Past INPUT_TURN_BUDGET the socket stops
   * being read until the next turn (after the group commit has answered what was read),
   * so one client's burst cannot turn into an unbounded burst of answers.
   */
  noteInput(bytes: number): void {
    this.inputBytes += bytes;
    if (!this.inputTurnScheduled) {
      this.inputTurnScheduled = true;
      setImmediate(() => {
        this.inputTurnScheduled = false;
        this.inputBytes = 0;
      });
    }
    if (this.inputBytes > INPUT_TURN_BUDGET) this.pause();
  }

  /** Bytes of answers (and echoes) this connection's own pending requests will produce. */
  private unansweredBytes = 0;

  /**
   * Counts a request whose answer is pending: a send's `sent` and echo will be about
   * `bytes`. Past a quarter of the tighter unsent bound (this connection's, or its user's)
   * the socket is not read until answers come back: the store answers a whole batch in
   * one turn, and a client that pipelines faster than the store commits must not queue
   * more echoes than its bounds hold.
   */
  noteRequest(bytes: number): void {
    this.unansweredBytes += bytes;
    if (this.unansweredBytes > this.unansweredBound()) this.pause();
  }

  /** The answer to a request counted by noteRequest was written. */
  noteAnswer(bytes: number): void {
    this.unansweredBytes -= bytes;
    if (this.inputPaused && this.unansweredBytes <= this.unansweredBound()) this.resumeInputWhenDrained();
  }

  private unansweredBound(): number {
    return Math.min(this.ctx.config.maxBufferedBytes, this.ctx.config.maxBufferedUserBytes) / 4;
  }

  pause(): void {
    if (this.inputPaused || this.closed()) return;
    this.inputPaused = true;
    this.ws.pause();
    setImmediate(() => this.resumeInputWhenDrained());
  }

  /** True while reading waits for the user's frame budget to refill. */
  private budgetHeld = false;
  /** Frames handled beyond the budget since the hold began: each one lengthens it. */
  private frameDebt = 0;

  /**
   * Counts one client frame against the user's frame budget (PIGEON_FRAME_RATE). Frames
   * beyond it are still handled (they were read already) but each adds 1/rate s during
   * which the socket is not read: a flooding client is slowed to the budget, whatever it
   * sends (typing, junk, reads), and waits in its own buffers; nothing is refused, so a
   * client that merely bursts loses nothing.
   */
  noteFrame(key: string): void {
    if (this.ctx.frames.take(key, this.ctx.clock()) === 0) return;
    this.frameDebt++;
    if (this.budgetHeld || this.closed()) return;
    this.ctx.metrics.limitHits.labels('frame_rate').inc();
    this.budgetHeld = true;
    if (!this.inputPaused) {
      this.inputPaused = true;
      this.ws.pause();
    }
    this.payFrameDebt();
  }

  private payFrameDebt(): void {
    const ms = Math.ceil((this.frameDebt * 1000) / this.ctx.config.frameRate);
    this.frameDebt = 0;
    setTimeout(() => {
      if (this.frameDebt > 0 && !this.closed()) {
        this.payFrameDebt();
        return;
      }
      this.budgetHeld = false;
      this.resumeInputWhenDrained();
    }, ms);
  }

  /** True while the connection holds input because its queue of unhandled frames is long. */
  private inboxHeld = false;

  /**
   * Stops reading the socket until release: a client that pipelines faster than its
   * frames are handled waits in its own buffers (and the kernel's), not in our memory, and
   * gets no more of the event loop than its turn.
   */
  hold(): void {
    if (this.inboxHeld || this.closed()) return;
    this.inboxHeld = true;
    if (!this.inputPaused) {
      this.inputPaused = true;
      this.ws.pause();
    }
  }

  release(): void {
    if (!this.inboxHeld) return;
    this.inboxHeld = false;
    this.resumeInputWhenDrained();
  }

  private resumeInputWhenDrained(): void {
    if (!this.inputPaused || this.closed() || this.inboxHeld || this.budgetHeld) return;
    // Still waiting for answers: noteAnswer resumes.
    if (this.unansweredBytes > this.unansweredBound()) return;
    if (this.out.unsent > this.ctx.config.maxBufferedBytes / 4) {
      this.out.onDrain(() => this.resumeInputWhenDrained());
      return;
    }
    this.inputPaused = false;
    this.ws.resume();
  }
}
