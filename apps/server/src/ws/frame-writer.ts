import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Writes a connection's text frames: `ws` frames each one (`ws.send`, its public API), and
 * the socket stays corked from the first frame of an event-loop turn to the end of that
 * turn, so every frame of the turn leaves in one write (`writev`) instead of a header and a
 * payload write per frame. Pigeon writes three frames per message (`sent`, the echo, the
 * recipient's `msg`), so this matters: measured on this machine, 2.1–2.3 µs of server CPU
 * per frame corked against 4.1–4.3 µs uncorked; framing by hand into one buffer (what the
 * server did before, through `ws`'s private `_socket`) measured 1.7–1.9 µs, and
 * `Sender.frame` 2.0–2.1 µs: not worth depending on `ws` internals or its framing code
 * for. See bench/README.md.
 *
 * `socket` is the one the upgrade came on (`http.Server` 'upgrade'), the same one `ws`
 * writes to; `ws` corks it too around each frame, and cork/uncork nest.
 */
export class FrameWriter {
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    readonly socket: Duplex,
  ) {}

  /** Sends one text frame; it is on the socket's buffer now and leaves at the end of the turn. */
  text(data: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => this.flush());
    }
    this.ws.send(data);
  }

  /** Writes what this turn has sent so far (before a close, so the close comes after it). */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /**
   * What was sent and not yet taken by the kernel, corked frames included (`bufferedAmount`:
   * a text payload counts its UTF-16 length, a lower bound of its bytes).
   */
  get unsent(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Resolves once fewer than `bytes` are unsent, or the socket closed: on its `drain`, which
   * only comes after a write found the buffer over the socket's high-water mark; the timer
   * covers a bound set below it.
   */
  async drainBelow(bytes: number): Promise<void> {
    this.flush();
    const socket = this.socket;
    while (this.ws.bufferedAmount > bytes && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, 10);
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }

  /** Calls `fn` once the socket has written out what it buffered (its next `drain`). */
  onDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }
}
