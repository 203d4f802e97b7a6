import { ClientErrorCode, PigeonRequestError } from './errors.js';
import type { Observable } from './observable.js';
import type { AbortSignalLike } from './platform-types.js';
import type { ClientStatus } from './types.js';

/** Resolves once `online`; rejects with `stopped` when the client stops (or is refused) first. */
export function whenOnline(status: Observable<ClientStatus>, running: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (s: ClientStatus) => {
      if (s.state === 'online') {
        off();
        resolve();
      } else if (s.state === 'unauthorized' || !running()) {
        off();
        reject(new PigeonRequestError(ClientErrorCode.stopped, `client is ${s.state} (${s.reason ?? ''})`));
      }
    };
    const off = status.subscribe(check);
    const now = status.get();
    if (now.state === 'online' || now.state === 'unauthorized' || !running()) check(now);
  });
}

/**
 * Resolves once nothing is pending and `persisted` resolved (for "sign out: wait until my
 * messages are sent?"); rejects with what `persisted` rejects, or `aborted` when `signal` aborts.
 */
export function whenNothingPending(
  pending: Observable<number>,
  persisted: () => Promise<void>,
  signal: AbortSignalLike | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      off();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(new PigeonRequestError(ClientErrorCode.aborted, 'the wait was aborted'));
    const check = () => {
      if (done || pending.get() > 0) return;
      persisted().then(() => finish(), finish);
    };
    const off = pending.subscribe(check);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    check();
  });
}
