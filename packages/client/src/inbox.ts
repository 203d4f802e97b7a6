import type { MsgFrame } from '@pigeon/protocol';
import { SeenSet } from './seen-set.js';

export interface InboxOptions {
  dedupWindow: number;
  maxListenerFailures: number;
}

/** What the inbox needs from its owner for one entry. */
export interface EntryHandlers {
  /** Hands the entry to the application; resolves false when a listener failed. */
  deliver(message: MsgFrame): Promise<boolean>;
  /** The entry is done with and the cursor may move to it: ack it (batched) and persist. */
  processed(cursor: string): void;
  /** The listener failed once too often on this entry: it now counts as processed. */
  gaveUp(message: MsgFrame, failures: number): void;
}

/**
 * The inbox: mailbox entries become application events one at a time, in arrival (= cursor)
 * order, each once (replays after a reconnect are dropped by cursor and by `(from, id)`), and
 * only then does the cursor move. An entry whose listener failed stops the cursor (and the
 * cumulative acks) just before it for the rest of that connection; entries after it are still
 * delivered, and the next connection, resuming from the last good cursor, delivers it again.
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
  async receive(m: MsgFrame, generation: number, h: EntryHandlers): Promise<void> {
    const idKey = `${m.from}\n${m.id}`;
    // A cursor seen before is a replay only if it names the same message: after a server's
    // database was reset, cursors restart and an old cursor string can name a new entry,
    // which must not be dropped.
    const duplicate = this.seenIds.has(idKey) || this.seenCursors.get(m.cursor) === idKey;
    if (!duplicate) {
      if (!(await h.deliver(m))) {
        const failures = (this.failures.get(idKey) ?? 0) + 1;
        if (failures < this.o.maxListenerFailures) {
          this.failures.set(idKey, failures);
          this.blockedOn = generation;
          return;
        }
        h.gaveUp(m, failures);
      }
      this.failures.delete(idKey);
      this.seenCursors.add(m.cursor, idKey);
      this.seenIds.add(idKey);
    }
    if (this.blockedOn === generation) return;
    this.cursor = m.cursor;
    h.processed(m.cursor);
  }
}
