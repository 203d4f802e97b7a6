import { RateLimiter, WHOLE_TOKEN_SLACK } from '../auth/rate-limiter.js';
import type { Logger } from '../logger.js';
import { LuaScript, type RedisLink, TIMED_OUT, withTimeout } from '../router/redis-link.js';
import type { RedisMetrics } from '../router/redis-metrics.js';
import type { Limiter } from './limiter.js';

/**
 * The token bucket of auth/rate-limiter.ts, step for step in Lua (the same float
 * operations and the same slack for a whole token, so both answer the same), for several takes at once (a group commit asks
 * about all its sends together; a key may come more than once and is taken in order).
 * Each bucket is a hash {t: tokens, a: at} that expires once it would be full again.
 * KEYS: the buckets; ARGV: capacity, perSecond, then `now` per key. Returns the wait in ms
 * per key (0 = granted).
 */
const TAKE = new LuaScript(
  'limiter_take',
  `local cap = tonumber(ARGV[1])
local per_s = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local now = tonumber(ARGV[i + 2])
  local b = redis.call('HMGET', KEYS[i], 't', 'a')
  local tokens = tonumber(b[1])
  local at = tonumber(b[2])
  if tokens == nil or at == nil then
    tokens = cap
    at = now
  elseif now > at then
    tokens = math.min(cap, tokens + ((now - at) / 1000) * per_s)
    at = now
  end
  local wait = 0
  if tokens >= 1 - ${WHOLE_TOKEN_SLACK} then
    tokens = math.max(0, tokens - 1)
  else
    wait = math.max(1, math.ceil(((1 - tokens) / per_s) * 1000))
  end
  redis.call('HSET', KEYS[i], 't', tokens, 'a', at)
  redis.call('PEXPIRE', KEYS[i], math.ceil(((cap - tokens) / per_s) * 1000) + 1000)
  out[i] = wait
end
return out`,
);

/** Gives one token back, never beyond the capacity; a missing bucket is full already. */
const REFUND = new LuaScript(
  'limiter_refund',
  `local cap = tonumber(ARGV[1])
local per_s = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then return 0 end
if now > at then
  tokens = math.min(cap, tokens + ((now - at) / 1000) * per_s)
  at = now
end
tokens = math.min(cap, tokens + 1)
redis.call('HSET', KEYS[1], 't', tokens, 'a', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(((cap - tokens) / per_s) * 1000) + 1000)
return 1`,
);

export interface RedisLimiterOptions {
  link: RedisLink;
  /** Names the bucket family in keys and metrics: `send` (per user) or `auth` (per address). */
  name: string;
  capacity: number;
  perSecond: number;
  /** How long a decision may wait for Redis before the node-local bucket decides instead. */
  timeoutMs: number;
  metrics: RedisMetrics;
  log: Logger;
}

/**
 * One bucket per key shared by every node: the decision is one atomic script in Redis.
 * (A refund goes wherever decisions go at that moment, so one straddling an outage may
 * land in the other bucket: at most one token off, once.)
 * The caller's clock is used (nodes are assumed NTP-synced; a node whose clock runs ahead
 * only delays refills for the others, it never creates tokens).
 *
 * When Redis does not answer within timeoutMs (down, restarting, SIGSTOPped), the node
 * decides with a bucket of its own of the same size instead of refusing every send: the
 * limit then holds per node rather than per cluster for the length of the outage, and a
 * late take that Redis still runs afterwards only makes that bucket stricter. Sends never
 * fail because Redis is away.
 */
export class RedisLimiter implements Limiter {
  private readonly fallback: RateLimiter;
  private readonly prefix: string;
  private lastWarn = 0;
  /**
   * A decision that timed out and has not been answered yet: while it is pending Redis is
   * stalled (frozen, overloaded), so decisions go local at once instead of each waiting
   * timeoutMs; the first answer that comes back ends this.
   */
  private stalled: Promise<unknown> | null = null;

  constructor(private readonly opts: RedisLimiterOptions) {
    this.fallback = new RateLimiter(opts.capacity, opts.perSecond);
    this.prefix = opts.link.key('rl', opts.name, '');
  }

  /** Takes of this turn, decided together in one script call at its end. */
  private queue: { key: string; now: number; resolve: (wait: number) => void }[] = [];

  take(key: string, now: number): Promise<number> {
    if (!this.opts.link.commandsUp || this.stalled) return Promise.resolve(this.local(key, now));
    return new Promise((resolve) => {
      this.queue.push({ key, now, resolve });
      if (this.queue.length === 1) queueMicrotask(() => void this.decide());
    });
  }

  private async decide(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const { link, capacity, perSecond } = this.opts;
    if (!link.commandsUp || this.stalled) {
      for (const t of batch) t.resolve(this.local(t.key, t.now));
      return;
    }
    const decision = TAKE.run(
      link.cmd,
      batch.map((t) => this.prefix + t.key),
      [capacity, perSecond, ...batch.map((t) => t.now)],
    );
    let waits: unknown = TIMED_OUT;
    try {
      waits = await withTimeout(decision, this.opts.timeoutMs);
      if (waits === TIMED_OUT && !this.stalled) {
        const stalled = decision.catch(() => {});
        this.stalled = stalled;
        void stalled.then(() => {
          if (this.stalled === stalled) this.stalled = null;
        });
        this.warn(new Error(`no answer within ${this.opts.timeoutMs} ms`));
      }
    } catch (err) {
      this.warn(err);
    }
    if (Array.isArray(waits) && waits.length === batch.length) {
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(Number(waits[i]));
      return;
    }
    for (const t of batch) t.resolve(this.local(t.key, t.now));
  }

  /** The node's own bucket decides (Redis down or stalled). */
  private local(key: string, now: number): number {
    this.opts.metrics.limiterFallbacks.labels(this.opts.name).inc();
    return this.fallback.take(key, now);
  }

  async refund(key: string, now: number): Promise<void> {
    const { link, capacity, perSecond } = this.opts;
    if (!link.commandsUp || this.stalled) {
      this.fallback.refund(key, now);
      return;
    }
    try {
      await withTimeout(
        REFUND.run(link.cmd, [this.prefix + key], [capacity, perSecond, now]),
        this.opts.timeoutMs,
      );
    } catch (err) {
      this.warn(err);
    }
  }

  prune(now: number): void {
    this.fallback.prune(now);
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.opts.log.warn(
      { limiter: this.opts.name, err: (err as Error).message },
      'redis limiter failed; deciding locally',
    );
  }
}
