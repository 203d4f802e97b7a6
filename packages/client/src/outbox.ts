import { ErrorCode, LIMITS, type MessageRef, parseUserId } from '@pigeon/protocol';
import type { OutboxErrorCode, OutboxItem } from './types.js';

/** Codes after which resending the same message can never succeed: the item fails. */
export const SEND_FAIL_CODES: ReadonlySet<string> = new Set<OutboxErrorCode>([
  ErrorCode.noSuchUser,
  ErrorCode.tooLarge,
  ErrorCode.badFrame,
  // a reply to a message that is not in the conversation, or deleted for everyone
  ErrorCode.noSuchMessage,
  ErrorCode.messageDeleted,
]);

function isFailCode(code: string): code is OutboxErrorCode {
  return SEND_FAIL_CODES.has(code);
}

/** What the client should do after an `error` frame about one of its sends. */
export type SendErrorAction =
  | { kind: 'ignored' }
  | { kind: 'failed' }
  /** Nothing was stored: wait (`retryAfterMs` for `rate_limited`), then resend in order. */
  | { kind: 'pause'; code: string; retryAfterMs: number | undefined };

function settled(item: OutboxItem): boolean {
  return item.state === 'sent' || item.state === 'delivered';
}

/**
 * The outbox state machine, free of sockets and timers: pending → sent → delivered, or
 * failed. Keeps send order; knows which ids await their `sent` on the current connection.
 */
export class Outbox {
  private items: OutboxItem[] = [];
  private readonly inFlight = new Set<string>();
  /** Ids this client discarded or pruned: never brought back from storage by `forStorage`. */
  private readonly removed = new Set<string>();

  constructor(
    private readonly keepSettled: number,
    private readonly maxInFlight: number,
  ) {}

  /** Every item, oldest first (copies). */
  list(): OutboxItem[] {
    return this.items.map((item) => ({ ...item }));
  }

  get(id: string): OutboxItem | undefined {
    const item = this.items.find((i) => i.id === id);
    return item ? { ...item } : undefined;
  }

  /** Items read from storage go first; items added meanwhile (same id: the stored copy wins) follow. */
  load(stored: readonly OutboxItem[]): void {
    const ids = new Set(stored.map((i) => i.id));
    this.items = [...stored.map((i) => ({ ...i })), ...this.items.filter((i) => !ids.has(i.id))];
    this.prune();
  }

  add(item: OutboxItem): void {
    this.items.push({ ...item });
  }

  /**
   * Adds a new message and returns it: `pending`, or already `failed` with the code the server
   * would give (a bad recipient or an empty body is `bad_frame`, a long body `too_large`), which
   * saves a round trip.
   */
  create(to: string, body: string, id: string, now: number, replyTo?: MessageRef): OutboxItem {
    const recipient = parseUserId(to);
    const item: OutboxItem = { id, to: recipient ?? to, body, state: 'pending', createdAt: now };
    if (replyTo) item.replyTo = { from: replyTo.from, id: replyTo.id };
    this.add(item);
    if (recipient === null) this.markFailed(id, ErrorCode.badFrame, `not a user id: ${to}`);
    else if (typeof body !== 'string' || body.length === 0)
      this.markFailed(id, ErrorCode.badFrame, 'empty body');
    else if (body.length > LIMITS.bodyMaxLength) {
      const why = `body is ${body.length} UTF-16 units; the limit is ${LIMITS.bodyMaxLength}`;
      this.markFailed(id, ErrorCode.tooLarge, why);
    }
    return this.get(id) ?? item;
  }

  clear(): void {
    this.items = [];
    this.inFlight.clear();
    this.removed.clear();
  }

  /**
   * What to write to storage, given what is stored now: this client's items, plus stored
   * items it does not know (written by another client sharing the storage, such as a second
   * browser tab) unless it removed them itself. Without this, every write of one tab would
   * erase the other tab's unsent messages.
   */
  forStorage(stored: readonly OutboxItem[]): OutboxItem[] {
    const mine = new Set(this.items.map((i) => i.id));
    const foreign = stored.filter((i) => !mine.has(i.id) && !this.removed.has(i.id));
    if (foreign.length === 0) return this.list();
    const merged = [...this.list(), ...foreign.map((i) => ({ ...i }))];
    // Stable sort: equal timestamps keep this client's order.
    merged.sort((a, b) => a.createdAt - b.createdAt);
    return keepNewestSettled(merged, this.keepSettled);
  }

  hasPending(): boolean {
    return this.items.some((i) => i.state === 'pending');
  }

  get pendingCount(): number {
    let n = 0;
    for (const item of this.items) if (item.state === 'pending') n++;
    return n;
  }

  /** The item is pending and not on the wire: its text may still change, or it may go unsent. */
  isEditable(id: string): boolean {
    const item = this.items.find((i) => i.id === id);
    return item?.state === 'pending' && !this.inFlight.has(id);
  }

  /** Replaces the text of a pending item that is not in flight (an edit before it went out). */
  setBody(id: string, body: string): boolean {
    const item = this.items.find((i) => i.id === id);
    if (!item || !this.isEditable(id)) return false;
    item.body = body;
    return true;
  }

  /** Pending items not yet in flight, in order, that may be sent now. */
  takeSendable(): OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const item of this.items) {
      if (this.inFlight.size >= this.maxInFlight) break;
      if (item.state !== 'pending' || this.inFlight.has(item.id)) continue;
      this.inFlight.add(item.id);
      out.push({ ...item });
    }
    return out;
  }

  /** The connection dropped: nothing is in flight any more; pending items are resent later. */
  resetInFlight(): void {
    this.inFlight.clear();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** `sent` arrived (or an echo of the message proved it stored). Returns whether anything changed. */
  markSent(id: string, ts: number): boolean {
    this.inFlight.delete(id);
    const item = this.items.find((i) => i.id === id);
    if (!item || item.state === 'sent' || item.state === 'delivered') return false;
    item.state = 'sent';
    item.ts = ts;
    delete item.error;
    delete item.errorMessage;
    this.prune();
    return true;
  }

  /** A receipt, or `delivered: true` on an entry: delivered implies stored, so a pending item settles too. */
  markDelivered(id: string, ts?: number): boolean {
    this.inFlight.delete(id);
    const item = this.items.find((i) => i.id === id);
    if (!item || item.state === 'delivered') return false;
    item.state = 'delivered';
    if (ts !== undefined && item.ts === undefined) item.ts = ts;
    delete item.error;
    delete item.errorMessage;
    this.prune();
    return true;
  }

  markFailed(id: string, code: OutboxErrorCode, message: string): boolean {
    this.inFlight.delete(id);
    const item = this.items.find((i) => i.id === id);
    if (item?.state !== 'pending') return false;
    item.state = 'failed';
    item.error = code;
    item.errorMessage = message;
    return true;
  }

  /** Applies an `error` frame carrying one of our ids. */
  onError(id: string, code: string, message: string, retryAfterMs?: number): SendErrorAction {
    const item = this.items.find((i) => i.id === id);
    if (item?.state !== 'pending') {
      this.inFlight.delete(id);
      return { kind: 'ignored' };
    }
    if (isFailCode(code)) {
      this.markFailed(id, code, message);
      return { kind: 'failed' };
    }
    // rate_limited, internal (and codes from a newer server): nothing was stored; the item
    // stays pending and is resent later.
    this.inFlight.delete(id);
    return { kind: 'pause', code, retryAfterMs };
  }

  retry(id: string): boolean {
    const item = this.items.find((i) => i.id === id);
    if (item?.state !== 'failed') return false;
    item.state = 'pending';
    delete item.error;
    delete item.errorMessage;
    return true;
  }

  discard(id: string): boolean {
    const before = this.items.length;
    this.items = this.items.filter((i) => i.id !== id);
    this.inFlight.delete(id);
    this.removed.add(id);
    return this.items.length !== before;
  }

  private prune(): void {
    const kept = keepNewestSettled(this.items, this.keepSettled);
    if (kept.length === this.items.length) return;
    const ids = new Set(kept.map((i) => i.id));
    for (const item of this.items) if (!ids.has(item.id)) this.removed.add(item.id);
    this.items = kept;
  }
}

/** Keeps every unsettled item and only the newest `keep` settled ones, in order. */
function keepNewestSettled(items: OutboxItem[], keep: number): OutboxItem[] {
  let excess = items.filter(settled).length - keep;
  if (excess <= 0) return items;
  return items.filter((item) => {
    if (excess > 0 && settled(item)) {
      excess--;
      return false;
    }
    return true;
  });
}
