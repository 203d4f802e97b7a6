import type { UpdateKind } from '@pigeon/protocol';
import { ClientErrorCode } from './errors.js';
import type { Entry } from './inbox.js';
import type { ClientEventName, ClientEvents } from './types.js';

/** Events that carry mailbox entries: delivered one at a time and acknowledged (see `deliver`). */
type EntryEventName = 'message' | 'update' | UpdateKind;

type Listener = (...args: never[]) => unknown;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The client's typed events. A listener that throws never breaks the client: it is reported
 * on `error` (`listener`), and for `message` it makes `deliver` report the entry as unhandled.
 */
export class ClientEmitter {
  private readonly listeners = new Map<ClientEventName, Set<Listener>>();

  on<E extends ClientEventName>(event: E, listener: ClientEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** The listeners of `event`, copied so that (un)subscribing while emitting is safe. */
  private of<E extends ClientEventName>(event: E): ClientEvents[E][] {
    return [...(this.listeners.get(event) ?? [])] as ClientEvents[E][];
  }

  emit<E extends Exclude<ClientEventName, EntryEventName>>(
    event: E,
    ...args: Parameters<ClientEvents[E]>
  ): void {
    for (const fn of this.of(event)) {
      try {
        (fn as (...a: Parameters<ClientEvents[E]>) => void)(...args);
      } catch (err) {
        // An `error` listener that throws is not reported to itself again.
        if (event !== 'error')
          this.error(ClientErrorCode.listener, `a ${event} listener threw: ${describe(err)}`);
      }
    }
  }

  error(code: string, message: string): void {
    this.emit('error', { code, message });
  }

  /**
   * Hands an entry to its listeners in turn (awaiting each): a message to `message`, an update
   * to `update` and then to its kind's event. False if one of them failed.
   */
  async deliver(entry: Entry): Promise<boolean> {
    const calls: { name: string; call: () => unknown }[] =
      entry.t === 'msg'
        ? this.of('message').map((fn) => ({ name: 'message', call: () => fn(entry) }))
        : [
            ...this.of('update').map((fn) => ({ name: 'update', call: () => fn(entry) })),
            // The listener type of `entry.kind` takes exactly this update (UpdateEvents).
            ...(this.of(entry.kind) as ((u: typeof entry) => unknown)[]).map((fn) => ({
              name: entry.kind,
              call: () => fn(entry),
            })),
          ];
    let ok = true;
    for (const { name, call } of calls) {
      try {
        await call();
      } catch (err) {
        ok = false;
        this.error(ClientErrorCode.listener, `a ${name} listener threw: ${describe(err)}`);
      }
    }
    return ok;
  }
}
