import type { Registry } from 'prom-client';
import { DEFAULTS } from '../config.js';
import { RedisLimiter } from '../limiter/redis-limiter.js';
import type { Logger } from '../logger.js';
import type { MailboxReader } from './redis-feed.js';
import { RedisLink } from './redis-link.js';
import { RedisMetrics } from './redis-metrics.js';
import { RedisPresence } from './redis-presence.js';
import { RedisRouter } from './redis-router.js';

export interface RedisPartsOptions {
  /** `PIGEON_REDIS_URL`. */
  url: string;
  /** The store (PostgreSQL in a cluster): the router reads heads and gaps from it. */
  reader: MailboxReader;
  registry: Registry;
  log: Logger;
  /** `PIGEON_RATE`: sends a second per user, bucket of twice that. */
  rate: number;
  /** `PIGEON_AUTH_RATE`: register+login a minute per address. */
  authRate: number;
  /** `PIGEON_UPLOAD_RATE`: uploads created a minute per user (default: config.ts's). */
  uploadRate?: number;
  /** `PIGEON_NODE_TTL_MS`: a node silent this long is dead and its users go offline. */
  nodeTtlMs: number;
  /** Each local mailbox is compared with its store head this often while Redis is up. */
  sweepMs: number;
  /** How long a connection's opening, a presence answer or a rate-limit decision waits for Redis. */
  waitMs: number;
  /** Key and channel prefix (default `pigeon:`). */
  prefix?: string;
}

export interface RedisParts {
  link: RedisLink;
  router: RedisRouter;
  presence: RedisPresence;
  sendLimiter: RedisLimiter;
  authLimiter: RedisLimiter;
  uploadLimiter: RedisLimiter;
  /** Closes router, presence (its users go offline now) and the connections, in that order. */
  close(): Promise<void>;
}

/** While publications cannot arrive, local mailboxes are polled from the store this often. */
const POLL_MS = 1000;

/** The Redis side of a cluster node: routing, presence and both rate limits over one link. */
export function createRedisParts(opts: RedisPartsOptions): RedisParts {
  const log = opts.log.child({ part: 'redis' });
  const metrics = new RedisMetrics(opts.registry);
  const link = new RedisLink({ url: opts.url, log, metrics, prefix: opts.prefix });
  const router = new RedisRouter({
    link,
    reader: opts.reader,
    metrics,
    log,
    sweepMs: opts.sweepMs,
    pollMs: POLL_MS,
    subscribeWaitMs: opts.waitMs,
  });
  const presence = new RedisPresence({ link, metrics, log, ttlMs: opts.nodeTtlMs, waitMs: opts.waitMs });
  const limiter = (name: string, capacity: number, perSecond: number): RedisLimiter =>
    new RedisLimiter({ link, name, capacity, perSecond, timeoutMs: opts.waitMs, metrics, log });
  let closing: Promise<void> | null = null;
  const uploadRate = opts.uploadRate ?? DEFAULTS.uploadRate;
  return {
    link,
    router,
    presence,
    // The same bucket shapes as the in-process limiters (see server.ts).
    sendLimiter: limiter('send', opts.rate * 2, opts.rate),
    authLimiter: limiter('auth', opts.authRate, opts.authRate / 60),
    uploadLimiter: limiter('upload', uploadRate, uploadRate / 60),
    close() {
      closing ??= (async () => {
        await router.close();
        await presence.close();
        await link.close();
      })();
      return closing;
    },
  };
}
