/**
 * Per user, a short list of their live things (connections, route targets), each list
 * replaced on every change rather than changed in place: a loop over one (a delivery, a
 * close of the slowest) may attach or detach without disturbing itself. A user has a
 * handful at most, and an exactly-sized array of one costs a third of a `Set`: thousands of
 * idle connections wait on every node.
 */
export class UserLists<T> {
  private readonly lists = new Map<string, readonly T[]>();

  /** `user`'s list now (a snapshot: later changes make a new one). */
  of(user: string): readonly T[] {
    return this.lists.get(user) ?? NONE;
  }

  /** Adds `item` unless it is there already. */
  add(user: string, item: T): void {
    const list = this.lists.get(user);
    if (list?.includes(item)) return;
    // concat sizes the array exactly (a spread into a literal reserves 17 slots).
    this.lists.set(user, list ? list.concat(item) : [item]);
  }

  remove(user: string, item: T): void {
    const list = this.lists.get(user);
    if (!list?.includes(item)) return;
    if (list.length === 1) this.lists.delete(user);
    else
      this.lists.set(
        user,
        list.filter((x) => x !== item),
      );
  }

  clear(): void {
    this.lists.clear();
  }
}

const NONE: readonly never[] = [];
