/** A minimal typed event emitter; `on` returns its own unsubscribe function. */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
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
  listenersOf<E extends keyof Events>(event: E): Events[E][] {
    return [...(this.listeners.get(event) ?? [])] as Events[E][];
  }

  count(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
