import { performance } from 'node:perf_hooks';
import { RateLimiter } from '../auth/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Router } from '../router/router.js';
import type { OpResult, SendOp, SendRefusal, Store, StoreOp } from '../store/store.js';

/** What a submitter learns about its op: the store's answer, or `failed` when the commit failed. */
export type Outcome = OpResult | { kind: 'failed' };

interface Pending {
  op: StoreOp;
  done: (outcome: Outcome) => void;
}

/**
 * Group commit and fan-out. Ops (sends and acks) submitted during one event-loop turn are
 * stored in one transaction; after it commits, each submitter hears its outcome (the
 * `sent` frame) and then the new entries and receipts go out through the router, so on
 * the sending connection `sent` precedes the echo. Batches commit one after another, in
 * submission order, so pipelined sends keep their order.
 */
export class Relay {
  private queue: Pending[] = [];
  private scheduled = false;
  private committing = false;
  /** Ops submitted / dispatched so far, to resolve `settled()` waiters exactly when their ops are done. */
  private submitted = 0;
  private dispatched = 0;
  private waiters: { upto: number; resolve: () => void }[] = [];
  private readonly sendLimiter: RateLimiter;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly router: Router,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    rate: number,
  ) {
    // Full at first; `rate` tokens a second, holding up to twice that.
    this.sendLimiter = new RateLimiter(rate * 2, rate);
    this.pruneTimer = setInterval(() => this.sendLimiter.prune(Date.now()), 60_000);
    this.pruneTimer.unref();
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
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private readonly admit = (op: SendOp): SendRefusal | null => {
    const wait = this.sendLimiter.take(op.from, Date.now());
    return wait === 0 ? null : { code: 'rate_limited', retryAfterMs: wait };
  };

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.committing) return;
    if (this.queue.length === 0) return;
    this.committing = true;
    const batch = this.queue;
    this.queue = [];
    const started = performance.now();
    let results: OpResult[] | null = null;
    try {
      results = await this.store.commit(
        batch.map((p) => p.op),
        this.admit,
      );
    } catch (err) {
      this.log.error({ err, ops: batch.length }, 'store commit failed');
    }
    this.metrics.commitSeconds.observe((performance.now() - started) / 1000);
    this.metrics.commitBatchSize.observe(batch.length);
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
          this.metrics.messagesStored.inc();
          this.router.publishEntries(result.entries);
        } else if (result.kind === 'acked') {
          for (const receipt of result.receipts) this.router.publishReceipt(receipt);
        }
      } catch (err) {
        this.log.error({ err }, 'dispatch failed');
      }
    }
    this.committing = false;
    this.dispatched += batch.length;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.upto <= this.dispatched);
      this.waiters = this.waiters.filter((w) => w.upto > this.dispatched);
      for (const w of ready) w.resolve();
    }
    if (this.queue.length > 0) this.schedule();
  }

  /** Commits whatever is queued; resolves when nothing is pending (for shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.committing) {
      if (!this.committing) await this.flush();
      else await this.settled();
    }
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }
}
