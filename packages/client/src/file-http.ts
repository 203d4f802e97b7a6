import type { PigeonHttpError } from './errors.js';
import type { TransportResponse } from './file-types.js';
import { failure, parseJsonText } from './http.js';
import type { AbortSignalLike } from './platform-types.js';
import { abortController, clearTimer, setTimer } from './runtime.js';

// What the requests of the file API share: a watchdog that gives up on a request making no
// progress, and the typed error for an answer that is not a success.

/** Aborts when the caller's signal aborts, or when `touch` is not called for `ms`. */
export function watchdog(ms: number, outer: AbortSignalLike | undefined) {
  const controller = abortController();
  let stalled = false;
  let timer = setTimer(() => {}, 0);
  const arm = () => {
    clearTimer(timer);
    timer = setTimer(() => {
      stalled = true;
      controller.abort();
    }, ms);
  };
  const onAbort = () => controller.abort();
  outer?.addEventListener('abort', onAbort);
  if (outer?.aborted) controller.abort();
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    get stalled() {
      return stalled;
    },
    done() {
      clearTimer(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** The `PigeonHttpError` of a refused request: the server's `code` (and Retry-After) from its JSON body. */
export async function answerFailure(
  url: string,
  res: TransportResponse,
  what: string,
): Promise<PigeonHttpError> {
  const text = await res.text().catch(() => '');
  return failure(
    url,
    { status: res.status, text, body: parseJsonText(text), retryAfter: res.headers.get('retry-after') },
    what,
  );
}
