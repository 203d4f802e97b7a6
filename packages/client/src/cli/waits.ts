import { StatusReason } from '../errors.js';
import type { ClientStatus, OutboxItem, PigeonClient } from '../types.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { terminalSafe as safe } from './terminal-text.js';

// Waiting on the client with a deadline, as the one-shot commands do.

/** Starts the client and resolves once online; fails fast on a refused token, else after `timeoutMs`. */
export async function connect(client: PigeonClient, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last: ClientStatus = client.status.get();
  const off = client.status.subscribe((s) => {
    last = s;
  });
  try {
    await client.start();
    await Promise.race([
      client.whenOnline(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const why = last.reason ? ` (last: ${safe(last.reason)})` : '';
          reject(
            new CliError(
              ExitCode.unreachable,
              `server unreachable: not connected within ${timeoutMs} ms${why}`,
            ),
          );
        }, timeoutMs);
      }),
    ]);
  } catch (err) {
    const s = client.status.get();
    if (s.state === 'unauthorized') {
      throw new CliError(ExitCode.badCredentials, 'the saved session was refused: run `pigeon login` again');
    }
    if (s.reason === StatusReason.unsupportedVersion)
      throw new CliError(ExitCode.refused, 'the server speaks another protocol version');
    throw err;
  } finally {
    clearTimeout(timer);
    off();
  }
}

/**
 * Resolves with the item once it is no longer pending, or null after `timeoutMs` of silence;
 * `activity` (optional) subscribes a callback that restarts the wait (e.g. upload progress).
 */
export function waitSettled(
  client: PigeonClient,
  id: string,
  timeoutMs: number,
  activity?: (reset: () => void) => () => void,
): Promise<OutboxItem | null> {
  return new Promise((resolve) => {
    const check = (items: OutboxItem[]) => {
      const item = items.find((i) => i.id === id);
      if (item && item.state !== 'pending') {
        done(item);
      }
    };
    const off = client.on('outbox', check);
    let timer = setTimeout(() => done(null), timeoutMs);
    const offActivity = activity?.(() => {
      clearTimeout(timer);
      timer = setTimeout(() => done(null), timeoutMs);
    });
    function done(value: OutboxItem | null) {
      off();
      offActivity?.();
      clearTimeout(timer);
      resolve(value);
    }
    check(client.outbox());
  });
}
