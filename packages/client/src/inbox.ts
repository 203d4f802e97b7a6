import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import { SeenSet } from './seen-set.js';

/** A mailbox entry: a message, or (with features) an update. Both have a cursor in one order. */
export type Entry = MsgFrame | UpdateFrame;

export interface InboxOptions {
  dedupWindow: number;
  maxListenerFailures: number;
}

/** What the inbox needs from its owner for one entry. */
export interface EntryHandlers {
  /** Hands the entry to the application; resolves false when a listener failed. */
  deliver(entry: Entry): Promise<boolean>;
  /** The entry is done with and the cursor may move to it: ack it (batched) and persist. */
  processed(cursor: string): void;
  /** The listener failed once too often on this entry: it now counts as processed. */
  gaveUp(entry: Entry, failures: number): void;
}

/**
 * What names an entry across replays. A message is `(from, id)`. An update has no identity of
 * its own, so it is named by its kind and time: a replay carries the same stored values, and
 * after a server's database was reset an old cursor string naming a new update still differs.
 */
function identity(e: Entry): string {
  return e.t === 'msg' ? `${e.from}\n${e.id}` : `\u0000${e.kind}\n${e.ts}`;
}

/**
 * The inbox: mailbox entries become application events one at a time, in arrival (= cursor)
 * order, each once (replays after a reconnect are dropped by cursor and, for messages, by
 * `(from, id)`), and only then does the cursor move. An entry whose listener failed stops the
 * cursor (and the cumulative acks) just before it for the rest of that connection; entries
 * after it are still delivered, and the next connection, resuming from the last good cursor,
 * delivers it again.
 */
export class Inbox {
  /** The last cursor the application processed: the next `hello.since`. */
  cursor: string | null = null;
  private seenCursors: SeenSet;
  private seenIds: SeenSet;
  private readonly failures = new Map<string, number>();
  /** The connection on which an entry failed: its cursor stays put until the next connection. */
  private blockedOn: number | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: InboxOptions) {
    this.seenCursors = new SeenSet(o.dedupWindow);
    this.seenIds = new SeenSet(o.dedupWindow);
  }

  /** Runs `task` after everything queued before it (listeners may be asynchronous). */
  enqueue(task: () => void | Promise<void>, onError: (err: unknown) => void): void {
    this.queue = this.queue.then(task).catch(onError);
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Processes one entry that arrived on connection `generation`. Call it from a queued task. */
  async receive(e: Entry, generation: number, h: EntryHandlers): Promise<void> {
    const key = identity(e);
    // A cursor seen before is a replay only if it names the same entry: after a server's
    // database was reset, cursors restart and an old cursor string can name a new entry,
    // which must not be dropped.
    const duplicate = (e.t === 'msg' && this.seenIds.has(key)) || this.seenCursors.get(e.cursor) === key;
    if (!duplicate) {
      if (!(await h.deliver(e))) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        if (failures < this.o.maxListenerFailures) {
          this.failures.set(key, failures);
          this.blockedOn = generation;
          return;
        }
        h.gaveUp(e, failures);
      }
      this.failures.delete(key);
      this.seenCursors.add(e.cursor, key);
      if (e.t === 'msg') this.seenIds.add(key);
    }
    if (this.blockedOn === generation) return;
    this.cursor = e.cursor;
    h.processed(e.cursor);
  }
}
