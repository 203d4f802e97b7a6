import type { Presence, PresenceTarget } from './presence.js';

/** Presence of one process: counts of open connections per user and who watches whom. */
export class MemoryPresence implements Presence {
  private readonly open = new Map<string, number>();
  /** user → targets watching that user. */
  private readonly watchers = new Map<string, Set<PresenceTarget>>();
  /** target → the users it watches. */
  private readonly watching = new Map<PresenceTarget, readonly string[]>();

  join(target: PresenceTarget): void {
    const n = (this.open.get(target.user) ?? 0) + 1;
    this.open.set(target.user, n);
    if (n === 1) this.announce(target.user, true);
  }

  leave(target: PresenceTarget): void {
    this.unwatch(target);
    const n = this.open.get(target.user);
    if (n === undefined) return;
    if (n > 1) {
      this.open.set(target.user, n - 1);
      return;
    }
    this.open.delete(target.user);
    this.announce(target.user, false);
  }

  watch(target: PresenceTarget, users: readonly string[]): undefined {
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
      target.deliverPresence(user, this.open.has(user));
    }
    return undefined;
  }

  private unwatch(target: PresenceTarget): void {
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
    this.open.clear();
    this.watchers.clear();
    this.watching.clear();
  }
}
