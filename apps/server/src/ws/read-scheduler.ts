import { performance } from 'node:perf_hooks';
import { RateLimiter } from '../auth/rate-limiter.js';

interface Job {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface ReadSchedulerOptions {
  /** Budgeted reads a second per user; the bucket holds twice that. */
  rate: number;
  clock: () => number;
  /** At most this many reads start in one event-loop turn… */
  perTurn?: number;
  /** …and none after this many ms of the turn went to reads. */
  turnBudgetMs?: number;
}

/** A read refused by the per-user budget: answer `rate_limited` with this wait. */
export class ReadRefused extends Error {
  constructor(readonly retryAfterMs: number) {
    super('read budget exhausted');
  }
}

/**
 * Fair scheduling of store reads (history, conversations, replay pages). Reads wait in a
 * queue per user and are started round-robin across users, a few per event-loop turn:
 * between turns, sockets are read and written, so however many reads one user
 * pipelines, everybody else's next read waits for at most one turn of others' reads.
 * Budgeted reads (what a client asks for) also take a token from the user's bucket and
 * are refused when it is empty; replay pages are not budgeted (a hello already paid).
 */
export class ReadScheduler {
  private readonly budget: RateLimiter;
  private readonly queues = new Map<string, Job[]>();
  /** Users with queued reads, in round-robin order. */
  private ring: string[] = [];
  private scheduled = false;
  private readonly perTurn: number;
  private readonly turnBudgetMs: number;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly opts: ReadSchedulerOptions) {
    this.budget = new RateLimiter(opts.rate * 2, opts.rate);
    this.perTurn = opts.perTurn ?? 4;
    this.turnBudgetMs = opts.turnBudgetMs ?? 4;
    this.pruneTimer = setInterval(() => this.budget.prune(opts.clock()), 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Runs `read` when its turn comes. With `budgeted`, first takes a token of `user`'s
   * budget and rejects with ReadRefused when there is none (nothing is queued then).
   */
  run<T>(user: string, read: () => Promise<T>, budgeted: boolean): Promise<T> {
    if (budgeted) {
      const wait = this.budget.take(user, this.opts.clock());
      if (wait > 0) return Promise.reject(new ReadRefused(wait));
    }
    return new Promise<T>((resolve, reject) => {
      let queue = this.queues.get(user);
      if (!queue) {
        queue = [];
        this.queues.set(user, queue);
        this.ring.push(user);
      }
      queue.push({ run: read, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Reads waiting to start, all users together. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    const started = performance.now();
    let n = 0;
    while (this.ring.length > 0 && n < this.perTurn && performance.now() - started < this.turnBudgetMs) {
      const user = this.ring.shift()!;
      const queue = this.queues.get(user)!;
      const job = queue.shift()!;
      if (queue.length > 0) this.ring.push(user);
      else this.queues.delete(user);
      n++;
      try {
        job.run().then(job.resolve, job.reject);
      } catch (err) {
        job.reject(err);
      }
    }
    if (this.ring.length > 0) this.schedule();
  }

  close(): void {
    clearInterval(this.pruneTimer);
    for (const q of this.queues.values()) for (const job of q) job.reject(new Error('closed'));
    this.queues.clear();
    this.ring = [];
  }
}
