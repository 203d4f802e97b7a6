import type { Entry, Receipt } from '../store/store.js';
import type { Router, RouteTarget } from './router.js';

/** The single-process router: maps of user → targets. */
export class MemoryRouter implements Router {
  private readonly targets = new Map<string, Set<RouteTarget>>();
  /** user → targets subscribed to that user's presence. */
  private readonly watchers = new Map<string, Set<RouteTarget>>();
  /** target → the users it watches. */
  private readonly watching = new Map<RouteTarget, readonly string[]>();

  attach(target: RouteTarget): void {
    let set = this.targets.get(target.user);
    if (!set) {
      set = new Set();
      this.targets.set(target.user, set);
    }
    set.add(target);
    if (set.size === 1) this.announce(target.user, true);
  }

  detach(target: RouteTarget): void {
    this.unwatch(target);
    const set = this.targets.get(target.user);
    if (!set?.delete(target)) return;
    if (set.size === 0) {
      this.targets.delete(target.user);
      this.announce(target.user, false);
    }
  }

  publishEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const set = this.targets.get(entry.owner);
      if (set) for (const t of set) t.deliverEntry(entry);
    }
  }

  publishReceipt(receipt: Receipt): void {
    const set = this.targets.get(receipt.sender);
    if (set) for (const t of set) t.deliverReceipt(receipt);
  }

  publishTyping(from: string, to: string): void {
    const set = this.targets.get(to);
    if (set) for (const t of set) t.deliverTyping(from);
  }

  subscribePresence(target: RouteTarget, users: readonly string[]): void {
    this.unwatch(target);
    const unique = [...new Set(users)];
    this.watching.set(target, unique);
    for (const user of unique) {
      let set = this.watchers.get(user);
      if (!set) {
        set = new Set();
        this.watchers.set(user, set);
      }
      set.add(target);
      target.deliverPresence(user, this.targets.has(user));
    }
  }

  private unwatch(target: RouteTarget): void {
    const users = this.watching.get(target);
    if (!users) return;
    this.watching.delete(target);
    for (const user of users) {
      const set = this.watchers.get(user);
      if (!set) continue;
      set.delete(target);
      if (set.size === 0) this.watchers.delete(user);
    }
  }

  private announce(user: string, online: boolean): void {
    const set = this.watchers.get(user);
    if (set) for (const t of set) t.deliverPresence(user, online);
  }

  async close(): Promise<void> {
    this.targets.clear();
    this.watchers.clear();
    this.watching.clear();
  }
}
