import crypto from 'node:crypto';
import path from 'node:path';
import postgres from 'postgres';

/**
 * Which engine the server suite runs on. `PIGEON_TEST_ENGINE=postgres` (`npm run test:pg`)
 * runs the same tests against servers on PostgreSQL: the global setup starts one cluster
 * (engines/postgres.ts) and puts its base URL in `PIGEON_TEST_PG_URL`; every server a test
 * starts then gets a database of its own, named after its SQLite path, so a test that
 * restarts a server "on the same file" finds its data again, as it would with SQLite.
 */
export type TestEngine = 'sqlite' | 'postgres';

export const testEngine: TestEngine = process.env.PIGEON_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The database URL standing for `dbPath` in the postgres mode (created on first use), else null. */
export async function databaseFor(dbPath: string): Promise<string | null> {
  const base = process.env.PIGEON_TEST_PG_URL;
  if (testEngine !== 'postgres' || !base) return null;
  const name = `t_${crypto.createHash('sha256').update(path.resolve(dbPath)).digest('hex').slice(0, 24)}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const exists = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (exists.length === 0) await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (err) {
    // Created meanwhile by another server of the same test: fine.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await admin.end();
  }
  return `${base}/${name}`;
}
