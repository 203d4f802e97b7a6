import type { MsgFrame } from '@pigeon/protocol';
import { ClientErrorCode } from './errors.js';
import type { ClientEventName, ClientEvents } from './types.js';

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

  emit<E extends Exclude<ClientEventName, 'message'>>(event: E, ...args: Parameters<ClientEvents[E]>): void {
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

  /** Hands an entry to every `message` listener in turn (awaiting each); false if one failed. */
  async deliver(message: MsgFrame): Promise<boolean> {
    let ok = true;
    for (const fn of this.of('message')) {
      try {
        await fn(message);
      } catch (err) {
        ok = false;
        this.error(ClientErrorCode.listener, `a message listener threw: ${describe(err)}`);
      }
    }
    return ok;
  }
}
