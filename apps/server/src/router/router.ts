import type { BlockChange } from '../store/feature-types.js';
import type { Entry, Receipt } from '../store/store.js';

/** A live connection as the router sees it: something entries and events can be pushed to. */
export interface RouteTarget {
  readonly user: string;
  deliverEntry(entry: Entry): void;
  deliverReceipt(receipt: Receipt): void;
  deliverTyping(from: string): void;
  /** A block between this target's user and another one began or ended (presence and typing follow it). */
  deliverBlock(change: BlockChange): void;
}

/**
 * Live routing of mailbox entries, receipts and typing to the open connections of a user.
 * The in-memory router serves one process; the Redis router (redis-router.ts) lets several
 * nodes share users. Entries of one mailbox are handed to each target in sequence order,
 * never twice; whether a target was handed an entry it already replayed is the target's
 * business (it drops seq <= what it emitted).
 */
export interface Router {
  /**
   * The target receives everything for its user from now on. Resolves once that holds
   * for every entry committed after the promise resolved (for Redis: the subscription is
   * confirmed active), so a backlog read after it cannot miss what is stored meanwhile.
   * Entries may be handed to the target before it resolves (the target buffers them).
   */
  attach(target: RouteTarget): Promise<void>;
  /** Stops routing to the target at once (also when its attach is still pending). */
  detach(target: RouteTarget): void;
  /** Hands each committed entry to every target of its owner, on every node. */
  publishEntries(entries: readonly Entry[]): void;
  /** Hands a receipt to every target of `receipt.sender`, on every node. */
  publishReceipt(receipt: Receipt): void;
  /** Hands a typing notice to every target of `to`, on every node. */
  publishTyping(from: string, to: string): void;
  /**
   * Hands a block or unblock to every target of the blocker and of the blocked user, on
   * every node: presence and typing between them stop or resume at once. Not durable (the
   * blocker's mailbox has the `block` entry; a connection opened later reads the state).
   */
  publishBlock(change: BlockChange): void;
  close(): Promise<void>;
}
