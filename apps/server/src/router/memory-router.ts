import type { BlockChange } from '../store/feature-types.js';
import type { Entry, Receipt } from '../store/store.js';
import type { Router, RouteTarget } from './router.js';

/**
 * The single-process router: a map of user → targets. The relay commits batches one after
 * another, so entries reach it (and each target) in sequence order already.
 */
export class MemoryRouter implements Router {
  /**
   * A user's targets: an array replaced on every change (a user has a handful of devices,
   * and an array of one costs a third of a Set), so a delivery that closes one of them
   * goes on over the array it started with.
   */
  private readonly targets = new Map<string, readonly RouteTarget[]>();

  attach(target: RouteTarget): Promise<void> {
    const set = this.targets.get(target.user);
    if (!set?.includes(target)) this.targets.set(target.user, set ? set.concat(target) : [target]);
    return Promise.resolve();
  }

  detach(target: RouteTarget): void {
    const set = this.targets.get(target.user);
    if (!set?.includes(target)) return;
    if (set.length === 1) this.targets.delete(target.user);
    else
      this.targets.set(
        target.user,
        set.filter((t) => t !== target),
      );
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

  publishBlock(change: BlockChange): void {
    for (const user of new Set([change.blocker, change.target])) {
      const set = this.targets.get(user);
      if (set) for (const t of set) t.deliverBlock(change);
    }
  }

  async close(): Promise<void> {
    this.targets.clear();
  }
}
