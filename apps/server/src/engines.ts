import { RateLimiter } from './auth/rate-limiter.js';
import { resolveSecret } from './auth/secret.js';
import { type Config, checkFileStore } from './config.js';
import { ConfigError } from './config-parse.js';
import { type FileParts, pgFileParts, sqliteFileParts } from './files/file-parts.js';
import type { Limiter } from './limiter/limiter.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { MemoryPresence } from './router/memory-presence.js';
import { MemoryRouter } from './router/memory-router.js';
import type { Presence } from './router/presence.js';
import { createRedisParts } from './router/redis-parts.js';
import type { Router } from './router/router.js';
import { PgStore } from './store/pg-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

/**
 * The one place where the server's parts are picked from config; nothing else knows which
 * engine is behind `store`, `router`, `presence` and the send limiter:
 *  - default: SQLite at `PIGEON_DB` + in-process parts (one node, nothing to install);
 *  - `PIGEON_DATABASE_URL`: PostgreSQL as the system of record + in-process parts (a valid
 *    single node, and the durable half of a cluster);
 *  - `PIGEON_REDIS_URL` as well: the live parts across nodes on Redis;
 *  - Redis without PostgreSQL is refused (SQLite is one host's file: nodes sharing Redis
 *    would each have their own mailboxes).
 */
export interface Engines {
  /** What the node runs on, for the `listening` log line. */
  readonly describe: { store: 'sqlite' | 'postgres'; router: 'memory' | 'redis' };
  readonly store: Store;
  readonly router: Router;
  readonly presence: Presence;
  /** The per-user send bucket (`PIGEON_RATE`). */
  readonly sendLimiter: Limiter;
  /** The per-address register+login bucket (`PIGEON_AUTH_RATE`). */
  readonly authLimiter: Limiter;
  /** The token signing key: `PIGEON_SECRET`, else generated once and kept by the store's engine. */
  readonly secret: string;
  /** Attachments: their catalog (beside the messages), their bytes, the upload bucket. */
  readonly files: FileParts;
  /** False while an engine this node needs is unreachable (`/healthz` answers 503). */
  healthy(): Promise<boolean>;
  /** Closes the live parts, then the store. */
  close(): Promise<void>;
}

export interface EngineDeps {
  metrics: Metrics;
  log: Logger;
}

export async function openEngines(config: Config, deps: EngineDeps): Promise<Engines> {
  if (config.redisUrl !== null && config.databaseUrl === null) {
    throw new ConfigError(
      'PIGEON_REDIS_URL',
      'Redis is for several nodes, which need PIGEON_DATABASE_URL (PostgreSQL) as well',
    );
  }
  checkFileStore(config.fileStore, config.databaseUrl, config.redisUrl);
  if (config.databaseUrl !== null) return openPostgres(config, config.databaseUrl, deps);
  const store = await SqliteStore.open({
    path: config.dbPath,
    sync: config.dbSync,
    mailboxMax: config.mailboxMax,
    retentionDays: config.retentionDays,
    // Message times and the edit window follow the server's clock (tests move it by hand).
    now: config.clock,
  });
  const live = memoryParts(config);
  let files: FileParts;
  try {
    files = await sqliteFileParts(config, store, live.uploadLimiter);
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    describe: { store: 'sqlite', router: 'memory' },
    store,
    ...live,
    secret: resolveSecret(config.secret, config.dbPath),
    files,
    // The SQLite file is local: while the process runs, the store is reachable.
    healthy: () => Promise.resolve(true),
    async close() {
      await live.close();
      await files.close();
      await store.close();
    },
  };
}

interface LiveParts {
  router: Router;
  presence: Presence;
  sendLimiter: Limiter;
  authLimiter: Limiter;
  uploadLimiter: Limiter;
  close(): Promise<void>;
}

/** Routing, presence and the two buckets inside this process: one node. */
function memoryParts(config: Config): LiveParts {
  const router = new MemoryRouter();
  const presence = new MemoryPresence();
  return {
    router,
    presence,
    // Full at first; `rate` tokens a second, holding up to twice that.
    sendLimiter: new RateLimiter(config.rate * 2, config.rate),
    // `authRate` a minute, holding that many.
    authLimiter: new RateLimiter(config.authRate, config.authRate / 60),
    // `uploadRate` a minute, holding that many.
    uploadLimiter: new RateLimiter(config.uploadRate, config.uploadRate / 60),
    async close() {
      await router.close();
      await presence.close();
    },
  };
}

async function openPostgres(config: Config, url: string, deps: EngineDeps): Promise<Engines> {
  const store = await PgStore.open({
    url,
    poolSize: config.databasePool,
    mailboxMax: config.mailboxMax,
    retentionDays: config.retentionDays,
    now: config.clock,
    registry: deps.metrics.registry,
    onConnectionError: (err) => deps.log.warn({ err: err.message }, 'PostgreSQL connection error'),
  });
  let secret: string;
  try {
    secret = config.secret ?? (await store.sharedSecret());
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const live: LiveParts =
    config.redisUrl === null ? memoryParts(config) : redisParts(config, config.redisUrl, store, deps);
  let files: FileParts;
  try {
    files = await pgFileParts(config, store.client, live.uploadLimiter);
  } catch (err) {
    await live.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  return {
    describe: { store: 'postgres', router: config.redisUrl === null ? 'memory' : 'redis' },
    store,
    ...live,
    secret,
    files,
    healthy: () => store.healthy(),
    async close() {
      await live.close();
      await files.close();
      await store.close();
    },
  };
}

/**
 * Routing, presence and the two buckets across nodes, on Redis (router/redis-parts.ts).
 * Redis is not in `healthy()`: without it a node still serves its users (delivery across
 * nodes slows to polling the store), so a load balancer must not take it out.
 */
function redisParts(config: Config, url: string, store: Store, deps: EngineDeps): LiveParts {
  return createRedisParts({
    url,
    reader: store,
    registry: deps.metrics.registry,
    log: deps.log,
    rate: config.rate,
    authRate: config.authRate,
    uploadRate: config.uploadRate,
    nodeTtlMs: config.nodeTtlMs,
    sweepMs: config.routerSweepMs,
    waitMs: config.redisWaitMs,
    prefix: config.redisPrefix,
  });
}
