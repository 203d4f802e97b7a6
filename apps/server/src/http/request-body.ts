import type { IncomingMessage } from 'node:http';

/** How a streamed request body stopped early (null: it was read to its end, or is being read). */
type BodyStop = 'idle' | 'stopped' | null;

export interface RequestChunks extends AsyncIterable<Buffer> {
  /** Why reading stopped before the end, if it did. */
  readonly stopped: BodyStop;
}

/**
 * The chunks of a request body, one at a time as the consumer asks (so the socket is read
 * no faster than they are stored), ending early when no byte came for `idleMs` ('idle') or
 * `signal` aborts ('stopped'). Ending early, or leaving the loop (`break`), only stops
 * reading: unlike a stream's own iterator it does not destroy the request, so the server
 * can still answer (413, 408…) with `Connection: close`. A body cut by the client rejects
 * with the stream's error (`aborted`).
 */
export function requestChunks(req: IncomingMessage, idleMs: number, signal: AbortSignal): RequestChunks {
  let stopped: BodyStop = null;
  let finished = false;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const stop = (why: Exclude<BodyStop, null>) => {
    if (finished) return;
    stopped = why;
    finished = true;
    wake?.();
  };
  const onAbort = () => stop('stopped');
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const armIdle = () => {
    if (timer) timer.refresh();
    else timer = setTimeout(() => stop('idle'), idleMs);
  };
  const done = () => {
    finished = true;
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };

  async function next(): Promise<IteratorResult<Buffer>> {
    for (;;) {
      if (finished) {
        done();
        return { done: true, value: undefined };
      }
      const chunk = req.read() as Buffer | null;
      if (chunk !== null) {
        armIdle();
        return { done: false, value: chunk };
      }
      if (req.readableEnded || req.complete) {
        done();
        return { done: true, value: undefined };
      }
      if (req.destroyed || req.errored) {
        done();
        throw req.errored ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      }
      // Wait for data, the end, an error, the idle timer or the signal.
      await new Promise<void>((resolve) => {
        const settle = () => {
          req.off('readable', settle);
          req.off('end', settle);
          req.off('error', settle);
          req.off('close', settle);
          wake = null;
          resolve();
        };
        wake = settle;
        req.on('readable', settle);
        req.on('end', settle);
        req.on('error', settle);
        req.on('close', settle);
      });
    }
  }

  armIdle();
  return {
    get stopped() {
      return stopped;
    },
    [Symbol.asyncIterator]() {
      return {
        next,
        // Leaving the loop stops reading; the request stays for the answer.
        async return() {
          done();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
