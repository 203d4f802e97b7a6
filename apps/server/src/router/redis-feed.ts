import type { Entry } from '../store/store.js';
import type { RouteTarget } from './router.js';

/** What the router reads from the system of record: the mailbox head and ranges of entries. */
export interface MailboxReader {
  mailbox(user: string): Promise<{ headSeq: number } | null>;
  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]>;
}

/** Entries per store read when filling a gap or catching up. */
const READ_PAGE = 500;
/**
 * Out-of-order entries held while a gap is filled. Past this the node is far behind: it
 * drops them and reads everything from the store instead (they are all there).
 */
const MAX_PENDING = 5000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

type ReadReason = 'gap' | 'catch_up';

export interface FeedHooks {
  onRepeat(): void;
  onRead(reason: ReadReason): void;
  onFromStore(entries: number): void;
  onReadError(err: unknown): void;
}

/**
 * Caps how many catch-up reads run at once, so a catch-up of every mailbox of a node
 * (after a Redis reconnect) queues instead of flooding the store. Gap reads bypass it:
 * they hold back live delivery.
 */
export class ReadGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await f();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * One mailbox as seen by one node: the local targets of its owner and the position up to
 * which they were handed entries. Publications are hints: entry n is handed out only
 * right after n−1; a later one waits while the gap is read from the store; an earlier
 * one is a repeat and is dropped. `catchUp` compares with the store head (after a Redis
 * reconnect, a node death, or periodically) and hands out whatever was missed.
 *
 * Everything at or below the store head read at start belongs to the targets' own
 * backlog replay (they read the head after this feed started), so handing starts above it.
 */
export class MailboxFeed {
  readonly targets = new Set<RouteTarget>();
  /** Every entry up to here was handed out (or is gone from the store); -1 until started. */
  private handed = -1;
  private readonly pending = new Map<number, Entry>();
  private wantHead = false;
  private reading = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = RETRY_MIN_MS;
  private closed = false;

  constructor(
    readonly user: string,
    private readonly reader: MailboxReader,
    private readonly gate: ReadGate,
    private readonly hooks: FeedHooks,
  ) {}

  /** Reads the head: entries up to it are the backlog of whoever attaches now. */
  async start(): Promise<void> {
    const mailbox = await this.reader.mailbox(this.user);
    if (this.closed || this.handed >= 0) return;
    this.handed = mailbox?.headSeq ?? 0;
    this.drain();
    // A catch-up asked for before the start (pending overflowed, a reconnect) runs now.
    if (this.wantHead) this.read();
  }

  /** Highest sequence handed out so far (-1 before start). */
  get position(): number {
    return this.handed;
  }

  /** A committed entry of this mailbox, from this node's relay or from a publication. */
  offer(entry: Entry): void {
    if (this.closed) return;
    if ((this.handed >= 0 && entry.seq <= this.handed) || this.pending.has(entry.seq)) {
      this.hooks.onRepeat();
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      this.pending.clear();
      this.catchUp();
      return;
    }
    this.pending.set(entry.seq, entry);
    if (this.handed >= 0) this.drain();
  }

  /** Compares the store head with what was handed out and hands out the difference. */
  catchUp(): void {
    this.wantHead = true;
    this.read();
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.targets.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private hand(entry: Entry): void {
    this.handed = entry.seq;
    for (const t of this.targets) t.deliverEntry(entry);
  }

  private drain(): void {
    for (let next = this.pending.get(this.handed + 1); next; next = this.pending.get(this.handed + 1)) {
      this.pending.delete(next.seq);
      this.hand(next);
    }
    if (this.pending.size === 0) return;
    // Left behind by a read that skipped entries retention had removed: nothing to wait for.
    for (const seq of this.pending.keys()) if (seq <= this.handed) this.pending.delete(seq);
    if (this.pending.size > 0) this.read();
  }

  private firstPending(): number | undefined {
    let first: number | undefined;
    for (const seq of this.pending.keys()) if (first === undefined || seq < first) first = seq;
    return first;
  }

  private read(): void {
    if (this.reading || this.closed || this.handed < 0 || this.retryTimer) return;
    this.reading = true;
    this.readLoop().then(
      () => {
        this.reading = false;
        this.retryDelay = RETRY_MIN_MS;
      },
      (err: unknown) => {
        this.reading = false;
        if (this.closed) return;
        this.hooks.onReadError(err);
        // The store is failing: try again later; publications keep queueing in `pending`.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.read();
        }, this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
      },
    );
  }

  private async readLoop(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      let upto: number;
      let reason: ReadReason;
      if (this.wantHead) {
        // Cleared before reading: a request that comes in during the read runs another one.
        this.wantHead = false;
        reason = 'catch_up';
        const mailbox = await this.gate.run(() => this.reader.mailbox(this.user));
        if (this.closed) return;
        upto = mailbox?.headSeq ?? 0;
      } else {
        const first = this.firstPending();
        if (first === undefined) return;
        reason = 'gap';
        // A published entry is committed, so everything before it is committed too.
        upto = first - 1;
      }
      while (this.handed < upto) {
        this.hooks.onRead(reason);
        const page = await this.reader.readRange(this.user, this.handed, upto, READ_PAGE);
        if (this.closed) return;
        let handed = 0;
        for (const entry of page) {
          // Publications may have handed some of these out during the read.
          if (entry.seq <= this.handed || entry.seq > upto) continue;
          this.pending.delete(entry.seq);
          this.hand(entry);
          handed++;
        }
        this.hooks.onFromStore(handed);
        if (page.length < READ_PAGE) {
          // Nothing else exists up to `upto`: what is still missing was removed by retention.
          if (this.handed < upto) this.handed = upto;
          break;
        }
      }
      this.drain();
    }
  }
}
