import { performance } from 'node:perf_hooks';
import { ErrorCode } from '@pigeon/protocol';
import type { Limiter } from '../limiter/limiter.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Router } from '../router/router.js';
import {
  type AdmitOp,
  actorOf,
  type OpResult,
  type SendRefusal,
  type Store,
  type StoreOp,
} from '../store/store.js';

/** What a submitter learns about its op: the store's answer, or `failed` when the commit failed. */
export type Outcome = OpResult | { kind: 'failed' };

interface Pending {
  op: StoreOp;
  done: (outcome: Outcome) => void;
}

export interface RelayOptions {
  store: Store;
  router: Router;
  /** The per-user send bucket (`PIGEON_RATE`); in memory, or shared by nodes through Redis. */
  limiter: Limiter;
  metrics: Metrics;
  log: Logger;
  /** Time source for the limiter (tests inject one). */
  now?: () => number;
  /** Batches under way at once when the store pipelines commits (see below). */
  maxInFlight?: number;
}

/** How often an in-process limiter forgets its full buckets. */
const PRUNE_MS = 60_000;
/**
 * Batches that may be under way at once: one being committed (its fsync) while the next
 * ones are checked and admitted, so the store never waits for the event loop and the event
 * loop never waits for the store. A few suffice: the store merges what queued meanwhile.
 */
const MAX_IN_FLIGHT = 3;

/**
 * Group commit and fan-out. Ops (sends and acks) submitted during one event-loop turn are
 * one batch, stored in one transaction; after it commits, each submitter hears its outcome
 * (the `sent` frame) and then the new entries and receipts go out through the router, so
 * on the sending connection `sent` precedes the echo. Batches are committed and dispatched
 * in submission order, so pipelined sends keep their order.
 *
 * Rate limiting keeps the spec's check order with a limiter that may be asynchronous: the
 * store runs the duplicate and recipient checks first and asks `admit` only about the
 * sends that passed them, so a duplicate or a send to nobody never touches the bucket. A
 * token is kept only by a send that ends up `stored`: when the commit fails, or a send
 * that was granted a token turns out to be a duplicate after all, the token is refunded.
 */
export class Relay {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxInFlight: number;
  /** The dispatch of the last batch under way: the next one dispatches after it. */
  private lastDispatch: Promise<void> = Promise.resolve();
  /** Ops submitted / dispatched so far, to resolve `settled()` waiters exactly when their ops are done. */
  private submitted = 0;
  private dispatched = 0;
  private waiters: { upto: number; resolve: () => void }[] = [];
  private readonly store: Store;
  private readonly router: Router;
  private readonly limiter: Limiter;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly pruneTimer: NodeJS.Timeout | null = null;

  constructor(opts: RelayOptions) {
    this.store = opts.store;
    this.router = opts.router;
    this.limiter = opts.limiter;
    this.metrics = opts.metrics;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.maxInFlight = this.store.pipelinesCommits ? (opts.maxInFlight ?? MAX_IN_FLIGHT) : 1;
    const limiter = this.limiter;
    if (limiter.prune) {
      this.pruneTimer = setInterval(() => limiter.prune?.(this.now()), PRUNE_MS);
      this.pruneTimer.unref();
    }
  }

  submit(op: StoreOp, done: (outcome: Outcome) => void): void {
    this.queue.push({ op, done });
    this.submitted++;
    this.schedule();
  }

  /** Resolves once everything submitted so far is committed (or failed) and dispatched. */
  settled(): Promise<void> {
    if (this.dispatched === this.submitted) return Promise.resolve();
    const upto = this.submitted;
    return new Promise((resolve) => this.waiters.push({ upto, resolve }));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After this turn's frames were read: they all join the batch.
    setImmediate(() => this.flush());
  }

  /** The store's admission callback for one batch: one token per send or feature write, in op order. */
  private admitter(granted: Set<AdmitOp>) {
    return async (sends: readonly AdmitOp[]): Promise<(SendRefusal | null)[]> => {
      const now = this.now();
      // Called in op order, so one user's takes reach the limiter in the order of the sends.
      const taken = await Promise.allSettled(sends.map((op) => this.limiter.take(actorOf(op), now)));
      const refusals: (SendRefusal | null)[] = [];
      let failure: unknown = null;
      for (let i = 0; i < sends.length; i++) {
        const t = taken[i]!;
        if (t.status === 'rejected') {
          failure ??= t.reason;
          refusals.push(null);
        } else if (t.value === 0) {
          granted.add(sends[i]!);
          refusals.push(null);
        } else {
          refusals.push({ code: ErrorCode.rateLimited, retryAfterMs: t.value });
        }
      }
      // The limiter failed: fail the batch (nothing stored, `internal`); granted tokens are refunded.
      if (failure !== null) throw failure;
      return refusals;
    };
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight++;
    const granted = new Set<AdmitOp>();
    const started = performance.now();
    const committed = this.store.commit(
      batch.map((p) => p.op),
      this.admitter(granted),
    );
    const previous = this.lastDispatch;
    this.lastDispatch = (async () => {
      let results: OpResult[] | null = null;
      try {
        results = await committed;
      } catch (err) {
        this.log.error({ err, ops: batch.length }, 'store commit failed');
      }
      this.metrics.commitSeconds.observe((performance.now() - started) / 1000);
      this.metrics.commitBatchSize.observe(batch.length);
      this.refundUnstored(batch, results, granted);
      // Answers go out in submission order even if a later batch failed first.
      await previous;
      this.dispatch(batch, results);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    })();
  }

  private dispatch(batch: readonly Pending[], results: OpResult[] | null): void {
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      const result = results?.[i];
      try {
        if (!result) {
          pending.done({ kind: 'failed' });
          continue;
        }
        pending.done(result);
        if (result.kind === 'stored') {
          this.metrics.messageStored();
          this.router.publishEntries(result.entries);
        } else if (result.kind === 'applied') {
          // Update entries travel like messages: in the mailbox order, to every node.
          this.router.publishEntries(result.entries);
          if (result.block) this.router.publishBlock(result.block);
        } else if (result.kind === 'acked') {
          for (const receipt of result.receipts) this.router.publishReceipt(receipt);
        }
      } catch (err) {
        this.log.error({ err }, 'dispatch failed');
      }
    }
    this.dispatched += batch.length;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.upto <= this.dispatched);
      this.waiters = this.waiters.filter((w) => w.upto > this.dispatched);
      for (const w of ready) w.resolve();
    }
  }

  /** A token stays taken only by a send that was stored or a feature write that changed something. */
  private refundUnstored(batch: readonly Pending[], results: OpResult[] | null, granted: Set<AdmitOp>): void {
    if (granted.size === 0) return;
    const now = this.now();
    for (let i = 0; i < batch.length; i++) {
      const op = batch[i]!.op;
      if (op.kind === 'ack' || !granted.has(op)) continue;
      const kind = results?.[i]?.kind;
      if (kind === 'stored' || kind === 'applied') continue;
      try {
        const refunded = this.limiter.refund(actorOf(op), now);
        if (refunded) void refunded.catch((err) => this.log.warn({ err }, 'limiter refund failed'));
      } catch (err) {
        this.log.warn({ err }, 'limiter refund failed');
      }
    }
  }

  /** Commits whatever is queued; resolves when nothing is pending (for shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      if (this.queue.length > 0 && this.inFlight < this.maxInFlight) this.flush();
      else await this.settled();
    }
  }

  close(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }
}
