import type { BlockChange } from '../store/feature-types.js';
import type { Entry, Receipt } from '../store/store.js';
import type { Router, RouteTarget } from './router.js';
import { UserLists } from './user-lists.js';

/**
 * The single-process router: a map of user → targets. The relay commits batches one after
 * another, so entries reach it (and each target) in sequence order already.
 */
export class MemoryRouter implements Router {
  private readonly targets = new UserLists<RouteTarget>();

  attach(target: RouteTarget): Promise<void> {
    this.targets.add(target.user, target);
    return Promise.resolve();
  }

  detach(target: RouteTarget): void {
    this.targets.remove(target.user, target);
  }

  publishEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      for (const t of this.targets.of(entry.owner)) t.deliverEntry(entry);
    }
  }

  publishReceipt(receipt: Receipt): void {
    for (const t of this.targets.of(receipt.sender)) t.deliverReceipt(receipt);
  }

  publishTyping(from: string, to: string): void {
    for (const t of this.targets.of(to)) t.deliverTyping(from);
  }

  publishBlock(change: BlockChange): void {
    for (const user of new Set([change.blocker, change.target])) {
      for (const t of this.targets.of(user)) t.deliverBlock(change);
    }
  }

  async close(): Promise<void> {
    this.targets.clear();
  }
}
