import crypto from 'node:crypto';
import path from 'node:path';
import { PgStore } from '../../src/store/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createDatabaseAt } from './postgres.js';

/**
 * Which engine the server suite runs on. `PIGEON_TEST_ENGINE=postgres` (`npm run test:pg`)
 * runs the same tests against servers on PostgreSQL: the global setup starts one cluster
 * (engines/postgres.ts) and puts its base URL in `PIGEON_TEST_PG_URL`; every server a test
 * starts then gets a database of its own, named after its SQLite path, so a test that
 * restarts a server "on the same file" finds its data again, as it would with SQLite.
 * `PIGEON_TEST_ENGINE=cluster` (`npm run test:cluster`) adds Redis: one redis-server for the
 * run (`PIGEON_TEST_REDIS_URL`), each server under a key prefix of its own named after the
 * same path, so every server is a cluster node with its routing, presence and rate limits
 * in Redis (and servers of different tests never see each other's users).
 */
export type TestEngine = 'sqlite' | 'postgres' | 'cluster';

const chosen = process.env.PIGEON_TEST_ENGINE;
export const testEngine: TestEngine = chosen === 'postgres' || chosen === 'cluster' ? chosen : 'sqlite';

/** True when the servers' store is PostgreSQL (the postgres and cluster modes). */
export const onPostgres = testEngine !== 'sqlite';

/** The database URL standing for `dbPath` in the postgres mode (created on first use), else null. */
export async function databaseFor(dbPath: string): Promise<string | null> {
  const base = process.env.PIGEON_TEST_PG_URL;
  if (!onPostgres || !base) return null;
  const name = `t_${crypto.createHash('sha256').update(path.resolve(dbPath)).digest('hex').slice(0, 24)}`;
  await createDatabaseAt(`${base}/postgres`, name);
  return `${base}/${name}`;
}

/** In the cluster mode, the Redis URL and key prefix standing for `dbPath`, else null. */
export function redisFor(dbPath: string): { url: string; prefix: string } | null {
  const url = process.env.PIGEON_TEST_REDIS_URL;
  if (testEngine !== 'cluster' || !url) return null;
  const hash = crypto.createHash('sha256').update(path.resolve(dbPath)).digest('hex').slice(0, 16);
  return { url, prefix: `t${hash}:` };
}

/**
 * Another node's view of the store a test server at `dbPath` uses: a second SqliteStore on
 * the same file, or in the postgres mode a PgStore on the same database.
 */
export async function openStoreFor(
  dbPath: string,
  opts: { mailboxMax: number; retentionDays: number } = { mailboxMax: 10_000, retentionDays: 30 },
): Promise<Store> {
  const url = await databaseFor(dbPath);
  if (url) return PgStore.open({ url, poolSize: 2, ...opts });
  return SqliteStore.open({ path: dbPath, sync: 'full', ...opts });
}
