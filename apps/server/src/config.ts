import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS } from '@pigeon/protocol';
import {
  addresses,
  bool,
  ConfigError,
  type Env,
  int,
  num,
  oneOf,
  origins,
  redisPrefix,
  secret,
  str,
} from './config-parse.js';
import { AddressList, LOOPBACK, LOOPBACK_AND_PRIVATE } from './http/address-list.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type DbSync = 'full' | 'normal';
export type FileStoreKind = 'fs' | 'postgres';

/** Everything the server can be told, in one typed object. */
export interface Config {
  /** `HOST`: address to listen on. */
  host: string;
  /** `PORT`: TCP port; 0 picks a free one (the `listening` log line names it). */
  port: number;
  /** `PIGEON_DB`: the SQLite file. Its directory is created when missing. */
  dbPath: string;
  /** `PIGEON_SECRET`: token signing key; null = generated once and kept in `<PIGEON_DB>.secret`. */
  secret: string | null;
  /** `PIGEON_TOKEN_TTL`: token lifetime in seconds. */
  tokenTtlSec: number;
  /** `PIGEON_AUTH_RATE`: register+login requests a minute per client address. */
  authRate: number;
  /** `PIGEON_TRUST_PROXY=1`: believe the last `X-Forwarded-For` entry as the client address. */
  trustProxy: boolean;
  /** `PIGEON_JWT_SECRET`: HS256 key of a host application's JWTs; null = host-app mode off. */
  jwtSecret: string | null;
  /** `PIGEON_ORIGINS`: extra allowed `Origin`s for `/ws` and `/legacy`, compared exactly. */
  origins: string[];
  /** `PIGEON_RATE`: sends a second per user (bucket holds twice that). */
  rate: number;
  /** `PIGEON_MAILBOX_MAX`: entries a mailbox keeps at least. */
  mailboxMax: number;
  /** `PIGEON_RETENTION_DAYS`: entries younger than this are always kept. */
  retentionDays: number;
  /** `PIGEON_LEGACY=1`: enable the `/legacy` endpoint of the original demo. */
  legacy: boolean;
  /** `LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `PIGEON_WEB_ROOT`: the built web app (default: `apps/web/dist` beside this package). */
  webRoot: string;
  /** `PIGEON_DB_SYNC`: SQLite `synchronous` in WAL mode. `full` survives power loss, `normal` only process crashes. */
  dbSync: DbSync;
  /** `PIGEON_MAX_BUFFERED`: bytes a connection may have unsent before it is closed 4008. */
  maxBufferedBytes: number;
  /** `PIGEON_DATABASE_URL`: PostgreSQL as the system of record instead of SQLite; null = SQLite at `dbPath`. */
  databaseUrl: string | null;
  /** `PIGEON_DATABASE_POOL`: PostgreSQL connections this node opens at most. */
  databasePool: number;
  /** `PIGEON_REDIS_URL`: Redis for routing, presence and rate limits across nodes; needs `databaseUrl`. */
  redisUrl: string | null;
  /** `PIGEON_NODE_TTL_MS`: with Redis, a node silent this long is dead: its users go offline (within this + 1 s). */
  nodeTtlMs: number;
  /** `PIGEON_REDIS_PREFIX`: prefix of every Redis key and channel, so several deployments can share one Redis. */
  redisPrefix: string;
  /** `PIGEON_MAX_BUFFERED_USER`: bytes all of one user's connections together may have unsent. */
  maxBufferedUserBytes: number;
  /** `PIGEON_MAX_CONNS_PER_USER`: open connections of one user (`/ws`; a legacy account's `/legacy` ones). */
  maxConnsPerUser: number;
  /** `PIGEON_MAX_CONNS_PER_IP`: open WebSocket connections from one client address (before hello too). */
  maxConnsPerIp: number;
  /** `PIGEON_HELLO_RATE`: hellos a minute per user (a bucket that holds this many). */
  helloRateUser: number;
  /** `PIGEON_HELLO_RATE_IP`: hellos a minute per client address (a bucket that holds this many). */
  helloRateIp: number;
  /** `PIGEON_FRAME_RATE`: client frames a second per user (all connections; the bucket holds twice that); past it, reading pauses. */
  frameRate: number;
  /** `PIGEON_READ_RATE`: store reads (history, conversations) a second per user; the bucket holds twice that. */
  readRate: number;
  /** `PIGEON_LEGACY_ALLOW`: client addresses that may open `/legacy`. */
  legacyAllow: AddressList;
  /** `PIGEON_METRICS_ALLOW`: client addresses that may read `/metrics` without a token. */
  metricsAllow: AddressList;
  /** `PIGEON_METRICS_TOKEN`: a bearer token that opens `/metrics` from anywhere; null = none. */
  metricsToken: string | null;
  /** `PIGEON_JWT_MAX_TTL`: a host JWT must carry `exp`, at most this many seconds after `iat` (or now). */
  jwtMaxTtlSec: number;
  /** `PIGEON_API_TIMEOUT`: seconds for a request's headers, and for an /api request's whole body. */
  apiTimeoutSec: number;
  /** `PIGEON_FILE_MAX`: bytes one uploaded file may have (decimal: 25 MB = 25,000,000). */
  fileMax: number;
  /** `PIGEON_FILE_QUOTA`: bytes of uploads one user may keep at once (complete or not, sent or not). */
  fileQuota: number;
  /** `PIGEON_UPLOAD_RATE`: uploads a user may create a minute (a bucket that holds this many). */
  uploadRate: number;
  /** `PIGEON_UPLOAD_TTL`: seconds an upload lives unless a message refers to it. */
  uploadTtlSec: number;
  /** `PIGEON_FILES_DIR`: where the local file store keeps uploads; null = `files/` beside `PIGEON_DB`. */
  filesDir: string | null;
  /** `PIGEON_FILE_STORE`: `fs` (a local directory) or `postgres` (large objects); null = `postgres` with PIGEON_DATABASE_URL, else `fs`. */
  fileStore: FileStoreKind | null;
  // ---- tuning knobs only settable through createPigeonServer(overrides), for tests
  /** Close 4002 when no hello arrives within this many ms. */
  helloTimeoutMs: number;
  /** WebSocket ping interval; a connection that missed the previous pong is dropped. */
  pingIntervalMs: number;
  /** How often the retention sweep runs (it also runs at start). */
  retentionSweepMs: number;
  /** scrypt cost parameter N (a power of two). */
  scryptCost: number;
  /** How long shutdown waits for sockets to close after 1001 before terminating them. */
  shutdownGraceMs: number;
  /** Time source of every limiter and throttle (tests pass a clock they move by hand). */
  clock: () => number;
  /** With Redis: each local mailbox is compared with its store head this often (lost publications show up by then). */
  routerSweepMs: number;
  /** With Redis: how long an opening, a presence answer or a rate-limit decision waits for Redis before going on without it. */
  redisWaitMs: number;
}

const defaultWebRoot = (): string => fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Every default, in one place. */
export const DEFAULTS: Config = {
  host: '0.0.0.0',
  port: 8080,
  dbPath: './data/pigeon.db',
  secret: null,
  tokenTtlSec: 30 * 24 * 3600,
  authRate: 30,
  trustProxy: false,
  jwtSecret: null,
  origins: [],
  rate: 20,
  mailboxMax: 10_000,
  retentionDays: 30,
  legacy: false,
  logLevel: 'info',
  webRoot: defaultWebRoot(),
  dbSync: 'full',
  maxBufferedBytes: 4 * 1024 * 1024,
  databaseUrl: null,
  databasePool: 10,
  redisUrl: null,
  nodeTtlMs: 10_000,
  redisPrefix: 'pigeon:',
  maxBufferedUserBytes: 16 * 1024 * 1024,
  maxConnsPerUser: 20,
  maxConnsPerIp: 100,
  helloRateUser: 30,
  helloRateIp: 300,
  frameRate: 1000,
  readRate: 20,
  legacyAllow: new AddressList(LOOPBACK),
  metricsAllow: new AddressList(LOOPBACK_AND_PRIVATE),
  metricsToken: null,
  jwtMaxTtlSec: 24 * 3600,
  apiTimeoutSec: 5,
  fileMax: LIMITS.fileMaxBytesDefault,
  fileQuota: LIMITS.fileQuotaBytesDefault,
  uploadRate: 60,
  uploadTtlSec: 86_400,
  filesDir: null,
  fileStore: null,
  helloTimeoutMs: LIMITS.helloTimeoutMs,
  pingIntervalMs: LIMITS.pingIntervalMs,
  retentionSweepMs: 10 * 60 * 1000,
  scryptCost: 16384,
  shutdownGraceMs: 2000,
  clock: Date.now,
  routerSweepMs: 30_000,
  redisWaitMs: 500,
};

/** Reads the environment into a Config; throws ConfigError naming the variable on a bad value. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = str(env, 'PIGEON_DATABASE_URL') ?? null;
  const redisUrl = str(env, 'PIGEON_REDIS_URL') ?? null;
  // Nodes sharing Redis must share the system of record too; SQLite is one host's file.
  if (redisUrl !== null && databaseUrl === null) {
    throw new ConfigError(
      'PIGEON_REDIS_URL',
      'Redis is for several nodes, which need PIGEON_DATABASE_URL (PostgreSQL) as well',
    );
  }
  const fileStore =
    str(env, 'PIGEON_FILE_STORE') === undefined
      ? null
      : oneOf(env, 'PIGEON_FILE_STORE', ['fs', 'postgres'] as const, 'fs');
  checkFileStore(fileStore, databaseUrl, redisUrl);
  return {
    ...DEFAULTS,
    host: str(env, 'HOST') ?? DEFAULTS.host,
    port: int(env, 'PORT', 0, 65535, DEFAULTS.port),
    dbPath: str(env, 'PIGEON_DB') ?? DEFAULTS.dbPath,
    secret: secret(env, 'PIGEON_SECRET') ?? null,
    tokenTtlSec: int(env, 'PIGEON_TOKEN_TTL', 1, 10 * 365 * 24 * 3600, DEFAULTS.tokenTtlSec),
    authRate: int(env, 'PIGEON_AUTH_RATE', 1, 1e9, DEFAULTS.authRate),
    trustProxy: bool(env, 'PIGEON_TRUST_PROXY', DEFAULTS.trustProxy),
    jwtSecret: secret(env, 'PIGEON_JWT_SECRET') ?? null,
    origins: origins(env, 'PIGEON_ORIGINS'),
    rate: num(env, 'PIGEON_RATE', 0.001, 1e9, DEFAULTS.rate),
    mailboxMax: int(env, 'PIGEON_MAILBOX_MAX', 1, 1e12, DEFAULTS.mailboxMax),
    retentionDays: num(env, 'PIGEON_RETENTION_DAYS', 0, 1e6, DEFAULTS.retentionDays),
    legacy: bool(env, 'PIGEON_LEGACY', DEFAULTS.legacy),
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      DEFAULTS.logLevel,
    ),
    webRoot: path.resolve(str(env, 'PIGEON_WEB_ROOT') ?? DEFAULTS.webRoot),
    dbSync: oneOf(env, 'PIGEON_DB_SYNC', ['full', 'normal'] as const, DEFAULTS.dbSync),
    maxBufferedBytes: int(env, 'PIGEON_MAX_BUFFERED', 65_536, 1 << 30, DEFAULTS.maxBufferedBytes),
    databaseUrl,
    databasePool: int(env, 'PIGEON_DATABASE_POOL', 1, 1000, DEFAULTS.databasePool),
    redisUrl,
    nodeTtlMs: int(env, 'PIGEON_NODE_TTL_MS', 1000, 600_000, DEFAULTS.nodeTtlMs),
    redisPrefix: redisPrefix(env, 'PIGEON_REDIS_PREFIX', DEFAULTS.redisPrefix),
    maxBufferedUserBytes: int(
      env,
      'PIGEON_MAX_BUFFERED_USER',
      65_536,
      2 ** 40,
      DEFAULTS.maxBufferedUserBytes,
    ),
    maxConnsPerUser: int(env, 'PIGEON_MAX_CONNS_PER_USER', 1, 1e6, DEFAULTS.maxConnsPerUser),
    maxConnsPerIp: int(env, 'PIGEON_MAX_CONNS_PER_IP', 1, 1e7, DEFAULTS.maxConnsPerIp),
    helloRateUser: int(env, 'PIGEON_HELLO_RATE', 1, 1e9, DEFAULTS.helloRateUser),
    helloRateIp: int(env, 'PIGEON_HELLO_RATE_IP', 1, 1e9, DEFAULTS.helloRateIp),
    frameRate: int(env, 'PIGEON_FRAME_RATE', 10, 1e9, DEFAULTS.frameRate),
    readRate: num(env, 'PIGEON_READ_RATE', 0.001, 1e9, DEFAULTS.readRate),
    legacyAllow: addresses(env, 'PIGEON_LEGACY_ALLOW', DEFAULTS.legacyAllow),
    metricsAllow: addresses(env, 'PIGEON_METRICS_ALLOW', DEFAULTS.metricsAllow),
    metricsToken: secret(env, 'PIGEON_METRICS_TOKEN') ?? null,
    jwtMaxTtlSec: int(env, 'PIGEON_JWT_MAX_TTL', 60, 365 * 24 * 3600, DEFAULTS.jwtMaxTtlSec),
    apiTimeoutSec: int(env, 'PIGEON_API_TIMEOUT', 1, 3600, DEFAULTS.apiTimeoutSec),
    fileMax: int(env, 'PIGEON_FILE_MAX', 1, 2 ** 40, DEFAULTS.fileMax),
    fileQuota: int(env, 'PIGEON_FILE_QUOTA', 1, 2 ** 50, DEFAULTS.fileQuota),
    uploadRate: int(env, 'PIGEON_UPLOAD_RATE', 1, 1e9, DEFAULTS.uploadRate),
    uploadTtlSec: int(env, 'PIGEON_UPLOAD_TTL', 60, 365 * 24 * 3600, DEFAULTS.uploadTtlSec),
    filesDir: str(env, 'PIGEON_FILES_DIR') ?? null,
    fileStore,
  };
}

/**
 * The file store must be one every node reaches: large objects need PostgreSQL, and a
 * local directory serves one node only (its upload locks live in the process), so it is
 * refused with Redis, i.e. several nodes (README "Files").
 */
export function checkFileStore(
  fileStore: FileStoreKind | null,
  databaseUrl: string | null,
  redisUrl: string | null,
): void {
  if (fileStore === 'postgres' && databaseUrl === null) {
    throw new ConfigError(
      'PIGEON_FILE_STORE',
      'postgres keeps files as large objects: set PIGEON_DATABASE_URL',
    );
  }
  if (fileStore === 'fs' && redisUrl !== null) {
    throw new ConfigError(
      'PIGEON_FILE_STORE',
      "fs is one node's directory; several nodes (PIGEON_REDIS_URL) share files through postgres",
    );
  }
}
