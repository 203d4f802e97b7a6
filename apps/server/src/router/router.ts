import type { Entry, Receipt } from '../store/store.js';

/** A live connection as the router sees it: something entries and events can be pushed to. */
export interface RouteTarget {
  readonly user: string;
  deliverEntry(entry: Entry): void;
  deliverReceipt(receipt: Receipt): void;
  deliverTyping(from: string): void;
  deliverPresence(user: string, online: boolean): void;
}

/**
 * Live routing of mailbox entries, receipts, typing and presence to the open connections
 * of a user. The in-memory router serves one process; a Redis pub/sub router can replace
 * it so that several processes share users. Entries of one mailbox must be handed to
 * each target in sequence order.
 */
export interface Router {
  /** The target is online from now on and receives everything for its user. */
  attach(target: RouteTarget): void;
  detach(target: RouteTarget): void;
  /** Hands each entry to every target of its owner. */
  publishEntries(entries: readonly Entry[]): void;
  /** Hands a receipt to every target of `receipt.sender`. */
  publishReceipt(receipt: Receipt): void;
  /** Hands a typing notice to every target of `to`. */
  publishTyping(from: string, to: string): void;
  /**
   * Replaces the target's presence subscriptions: it gets the current state of each user
   * now, then every change.
   */
  subscribePresence(target: RouteTarget, users: readonly string[]): void;
  close(): Promise<void>;
}
