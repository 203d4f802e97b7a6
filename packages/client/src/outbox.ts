import { ErrorCode, type MessageRef, parseUserId } from '@pigeon/protocol';
import type { OutboxFile } from './file-types.js';
import { isFailCode, refuse, type SendErrorAction } from './send-rules.js';
import type { OutboxErrorCode, OutboxItem } from './types.js';

/** A copy the caller may keep: attachments are objects of their own. */
function copy(item: OutboxItem): OutboxItem {
  return item.files ? { ...item, files: item.files.map((f) => ({ ...f })) } : { ...item };
}

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
  /** Items whose uploads were redone after `no_such_file` (at most once each). */
  private readonly reuploaded = new Set<string>();

  constructor(
    private readonly keepSettled: number,
    private readonly maxInFlight: number,
  ) {}

  /** Every item, oldest first (copies). */
  list(): OutboxItem[] {
    return this.items.map(copy);
  }

  get(id: string): OutboxItem | undefined {
    const item = this.items.find((i) => i.id === id);
    return item ? copy(item) : undefined;
  }

  /** Items read from storage go first; items added meanwhile (same id: the stored copy wins) follow. */
  load(stored: readonly OutboxItem[]): void {
    const ids = new Set(stored.map((i) => i.id));
    this.items = [...stored.map(copy), ...this.items.filter((i) => !ids.has(i.id))];
    this.prune();
  }

  add(item: OutboxItem): void {
    this.items.push(copy(item));
  }

  /**
   * Adds a new message and returns it: `pending`, or already `failed` with the code the server
   * would give (a bad recipient or an empty body is `bad_frame`, a long body `too_large`), which
   * saves a round trip.
   */
  create(
    to: string,
    body: string,
    id: string,
    now: number,
    extra: { replyTo?: MessageRef; files?: OutboxFile[] } = {},
  ): OutboxItem {
    const recipient = parseUserId(to);
    const item: OutboxItem = { id, to: recipient ?? to, body, state: 'pending', createdAt: now };
    if (extra.replyTo) item.replyTo = { from: extra.replyTo.from, id: extra.replyTo.id };
    const files = extra.files ?? [];
    if (files.length > 0) item.files = files.map((f) => ({ ...f }));
    this.add(item);
    const refusal = refuse(recipient === null ? null : item, files);
    if (refusal) this.markFailed(id, refusal.code, refusal.message);
    else if (recipient === null) this.markFailed(id, ErrorCode.badFrame, `not a user id: ${to}`);
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
    const merged = [...this.list(), ...foreign.map(copy)];
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

  /**
   * Pending items not yet in flight, in order, that may be sent now. An item whose attachments
   * are still uploading is passed over: text written after a large photo does not wait for it
   * (the photo's message goes out, and gets its place, once its files are stored).
   */
  takeSendable(): OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const item of this.items) {
      if (this.inFlight.size >= this.maxInFlight) break;
      if (item.state !== 'pending' || this.inFlight.has(item.id) || !uploaded(item)) continue;
      this.inFlight.add(item.id);
      out.push(copy(item));
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
    if (code === ErrorCode.noSuchFile && this.reupload(id)) return { kind: 'reupload' };
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

  /** The first attachment (in outbox order) that still has to be uploaded. */
  nextUpload(): { id: string; index: number } | null {
    for (const item of this.items) {
      if (item.state !== 'pending') continue;
      const index = (item.files ?? []).findIndex((f) => f.file === undefined);
      if (index >= 0) return { id: item.id, index };
    }
    return null;
  }

  /** Changes what is known of one attachment (upload id, bytes confirmed, the stored file). */
  setFile(id: string, index: number, change: Partial<OutboxFile>): OutboxFile | null {
    const file = this.items.find((i) => i.id === id)?.files?.[index];
    if (!file) return null;
    Object.assign(file, change);
    for (const key of Object.keys(change) as (keyof OutboxFile)[]) {
      if (change[key] === undefined) delete file[key];
    }
    return { ...file };
  }

  /**
   * `no_such_file` for a message: its uploads expired (or were removed) before it went out.
   * Once per item, its files are uploaded again from the bytes still held; true if so.
   */
  reupload(id: string): boolean {
    const item = this.items.find((i) => i.id === id);
    if (!item?.files || this.reuploaded.has(id)) return false;
    this.reuploaded.add(id);
    this.inFlight.delete(id);
    for (const f of item.files) {
      delete f.uploadId;
      delete f.expiresAt;
      delete f.file;
      f.uploaded = 0;
    }
    return true;
  }

  private prune(): void {
    const kept = keepNewestSettled(this.items, this.keepSettled);
    if (kept.length === this.items.length) return;
    const ids = new Set(kept.map((i) => i.id));
    for (const item of this.items) if (!ids.has(item.id)) this.removed.add(item.id);
    this.items = kept;
  }
}

/** Every attachment of the item is stored (a message without attachments is ready at once). */
function uploaded(item: OutboxItem): boolean {
  return (item.files ?? []).every((f) => f.file !== undefined);
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
