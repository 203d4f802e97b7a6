/**
 * Bytes of client frames that may wait to be handled (before synced, or behind a store
 * read): a client acking a long backlog frame by frame stays far below; past it, 4008.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/**
 * Frames waiting to be handled past which the socket is no longer read, and below which
 * it is read again: a pipelining client is slowed to the pace its frames are handled at.
 */
const INBOX_HIGH = 256;
const INBOX_LOW = 64;
/**
 * Frames handled in one go before the pump yields to the event loop: a client that
 * pipelines thousands of cheap frames shares the loop with everyone else's sockets.
 */
const FRAMES_PER_TURN = 64;

/** What the queue needs of its connection. */
export interface FrameSink {
  /** Handles one frame; a promise when its answer needs the store (the next frame waits for it). */
  handle(text: string): Promise<void> | undefined;
  readonly isOpen: boolean;
  /** Stop reading the socket (too many frames wait) … */
  hold(): void;
  /** … and read it again. */
  release(): void;
  /** More than MAX_QUEUED_BYTES wait: the connection is closed. */
  overflow(): void;
}

/**
 * A connection's client frames not handled yet. Frames are handled one at a time in
 * arrival order, so answers come in request order; before `synced` (and while a store read
 * is pending) they wait here.
 */
export class FrameQueue {
  /** Null while empty (the usual state of an idle connection: no array kept for it). */
  private inbox: string[] | null = null;
  private head = 0;
  private bytes = 0;
  /** Not handling now: before `start`, and while a frame's answer is pending. */
  private busy = true;
  private yieldScheduled = false;

  constructor(private readonly sink: FrameSink) {}

  push(text: string): void {
    this.bytes += text.length;
    if (this.bytes > MAX_QUEUED_BYTES) {
      this.sink.overflow();
      return;
    }
    this.inbox ??= [];
    this.inbox.push(text);
    if (this.inbox.length - this.head > INBOX_HIGH) this.sink.hold();
    if (!this.busy) this.pump();
  }

  /** The connection is open (synced): frames are handled from now on. */
  start(): void {
    this.busy = false;
    this.pump();
  }

  /** Drops what waits and returns it (the frames never handled, in arrival order). */
  clear(): string[] {
    const left = this.inbox?.slice(this.head) ?? [];
    this.inbox = null;
    this.head = 0;
    this.bytes = 0;
    return left;
  }

  private pump(): void {
    if (this.yieldScheduled) return;
    let handled = 0;
    while (!this.busy && this.inbox !== null && this.head < this.inbox.length && this.sink.isOpen) {
      if (handled++ === FRAMES_PER_TURN) {
        this.yieldScheduled = true;
        setImmediate(() => {
          this.yieldScheduled = false;
          this.pump();
        });
        return;
      }
      const inbox = this.inbox;
      const text = inbox[this.head++]!;
      this.bytes -= text.length;
      if (this.head === inbox.length) {
        this.inbox = null;
        this.head = 0;
      } else if (this.head >= 1024) {
        this.inbox = inbox.slice(this.head);
        this.head = 0;
      }
      if ((this.inbox?.length ?? 0) - this.head < INBOX_LOW) this.sink.release();
      const pending = this.sink.handle(text);
      if (pending) {
        this.busy = true;
        void pending.finally(() => {
          this.busy = false;
          this.pump();
        });
      }
    }
  }
}
