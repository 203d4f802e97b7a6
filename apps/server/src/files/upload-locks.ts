/**
 * One operation at a time per upload in this process (append, completion, removal), where
 * a newcomer takes over: it asks the one holding the upload to stop (its `signal` aborts)
 * and runs once that one finished. A client only starts a new PATCH when it gave up on the
 * previous one (a dead connection TCP has not noticed yet), so the old request must not
 * hold the upload hostage until a timeout. Nothing here waits on a clock.
 */
export class UploadLocks {
  private readonly held = new Map<string, { controller: AbortController; tail: Promise<void> }>();
  private closed = false;

  /**
   * Runs `fn` for `key` after the current holder (asked to stop) is done. `fn`'s signal
   * aborts when a later caller takes over, when `signal` aborts, or at close().
   */
  run<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new Error('closed'));
    const prev = this.held.get(key);
    prev?.controller.abort();
    const controller = new AbortController();
    if (signal) {
      if (signal.aborted) controller.abort();
      else signal.addEventListener('abort', () => controller.abort(), { once: true });
    }
    const result = (prev?.tail ?? Promise.resolve()).then(() => fn(controller.signal));
    const entry = { controller, tail: result.then(noop, noop) };
    this.held.set(key, entry);
    void entry.tail.then(() => {
      if (this.held.get(key) === entry) this.held.delete(key);
    });
    return result;
  }

  /** True while an operation on `key` runs or waits. */
  busy(key: string): boolean {
    return this.held.has(key);
  }

  /** Stops every holder and waits for all of them. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.held.values()];
    for (const e of all) e.controller.abort();
    await Promise.all(all.map((e) => e.tail));
  }
}

function noop(): void {}
