import type { WriteItem, WriteOp } from './chat-types.js';

/** What is stored under `<prefix>u:<user>:writes`. */
export interface StoredWrites {
  writes: WriteItem[];
  /** Read marks not yet confirmed: peer → the cursor to mark read up to. */
  reads: Record<string, string>;
}

/** A read mark on the wire: which peer, which mark, and which `markRead` calls it answers. */
export interface MarkInFlight {
  rid: string;
  peer: string;
  upto: string;
  /** Every `markRead` of this peer numbered up to this one is answered by this frame. */
  seq: number;
}

/**
 * The queue of writes (edit, delete, hide, react, block, unblock, receipts) and read marks,
 * free of sockets and timers. Writes go out one at a time in the order they were made, so a
 * refused-then-resent write can never overtake a later one (a reaction set then removed must
 * end removed). Read marks are different: one per conversation, only the newest matters (the
 * server moves a mark forward only), so a newer one replaces an unsent older one.
 */
export class WriteQueue {
  private items: WriteItem[] = [];
  private inFlight: string | null = null;
  /** Writes this client finished (answered or dropped): never brought back from storage. */
  private readonly removed = new Set<string>();
  private readonly marks = new Map<string, { upto: string; seq: number }>();
  private readonly marksInFlight = new Map<string, MarkInFlight>();
  /** `peer\nupto` marks confirmed by the server: never brought back from storage. */
  private readonly removedMarks = new Set<string>();
  private seq = 0;

  list(): WriteItem[] {
    return this.items.map((w) => ({ ...w, op: { ...w.op } }));
  }

  get size(): number {
    return this.items.length;
  }

  add(op: WriteOp, wid: string, now: number): WriteItem {
    const item: WriteItem = { wid, op: { ...op }, createdAt: now };
    this.items.push(item);
    return { ...item, op: { ...op } };
  }

  has(wid: string): boolean {
    return this.items.some((w) => w.wid === wid);
  }

  /** Stored writes go first (they are older), then those made meanwhile; stored marks fill in missing peers. */
  load(stored: StoredWrites): void {
    const ids = new Set(stored.writes.map((w) => w.wid));
    this.items = [...stored.writes.map((w) => ({ ...w })), ...this.items.filter((w) => !ids.has(w.wid))];
    for (const [peer, upto] of Object.entries(stored.reads)) {
      if (!this.marks.has(peer)) this.marks.set(peer, { upto, seq: ++this.seq });
    }
  }

  /**
   * What to store, given what is stored now: this client's writes and marks, plus those of
   * another client sharing the storage (a second tab) that this one does not know and did not
   * finish itself, so no tab erases another's unsent writes.
   */
  forStorage(stored: StoredWrites): StoredWrites {
    const mine = new Set(this.items.map((w) => w.wid));
    const foreign = stored.writes.filter((w) => !mine.has(w.wid) && !this.removed.has(w.wid));
    const writes = [...this.list(), ...foreign];
    // Stable: equal timestamps keep this client's order.
    if (foreign.length > 0) writes.sort((a, b) => a.createdAt - b.createdAt);
    const reads: Record<string, string> = {};
    for (const [peer, upto] of Object.entries(stored.reads)) {
      if (!this.removedMarks.has(`${peer}\n${upto}`)) reads[peer] = upto;
    }
    for (const [peer, m] of this.marks) reads[peer] = m.upto;
    return { writes, reads };
  }

  /** The oldest write, now in flight, unless one is in flight already or it must wait (`waits`). */
  takeHead(waits: (op: WriteOp) => boolean): WriteItem | null {
    if (this.inFlight !== null) return null;
    const head = this.items[0];
    if (!head || waits(head.op)) return null;
    this.inFlight = head.wid;
    return { ...head, op: { ...head.op } };
  }

  /** The write was answered (`ok`) or refused for good: it leaves the queue. */
  finish(wid: string): WriteItem | null {
    if (this.inFlight === wid) this.inFlight = null;
    const at = this.items.findIndex((w) => w.wid === wid);
    if (at < 0) return null;
    const [item] = this.items.splice(at, 1);
    this.removed.add(wid);
    return item ?? null;
  }

  /** Nothing is in flight any more (connection lost, or a pause): everything goes again later. */
  release(): void {
    this.inFlight = null;
    this.marksInFlight.clear();
  }

  get busy(): boolean {
    return this.inFlight !== null || this.marksInFlight.size > 0;
  }

  /** A new read mark for `peer`; returns its sequence number (for the caller's wait). */
  mark(peer: string, upto: string): number {
    const seq = ++this.seq;
    this.marks.set(peer, { upto, seq });
    return seq;
  }

  get pendingMarks(): number {
    return this.marks.size;
  }

  /** Marks to send now: one per peer not already in flight whose turn has come (`may`). */
  takeMarks(may: (peer: string) => boolean, rid: () => string): MarkInFlight[] {
    const out: MarkInFlight[] = [];
    const busy = new Set([...this.marksInFlight.values()].map((m) => m.peer));
    for (const [peer, m] of this.marks) {
      if (busy.has(peer) || !may(peer)) continue;
      const sent: MarkInFlight = { rid: rid(), peer, upto: m.upto, seq: m.seq };
      this.marksInFlight.set(sent.rid, sent);
      out.push(sent);
    }
    return out;
  }

  hasMark(rid: string): boolean {
    return this.marksInFlight.has(rid);
  }

  /**
   * The mark sent as `rid` was answered (`ok`) or refused for good. The peer's pending mark goes
   * unless a newer one was asked meanwhile (that one still has to go out).
   */
  finishMark(rid: string): MarkInFlight | null {
    const sent = this.marksInFlight.get(rid);
    if (!sent) return null;
    this.marksInFlight.delete(rid);
    const current = this.marks.get(sent.peer);
    if (current && current.seq <= sent.seq) this.marks.delete(sent.peer);
    this.removedMarks.add(`${sent.peer}\n${sent.upto}`);
    return sent;
  }

  clear(): void {
    this.items = [];
    this.inFlight = null;
    this.marks.clear();
    this.marksInFlight.clear();
  }
}
