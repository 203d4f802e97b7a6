import type { PgClient, PgConn } from './pg-client.js';
import { migrateTo2 } from './pg-feature-schema.js';

/**
 * The PostgreSQL schema, as numbered migrations. `migrate` brings a database to the newest
 * version in one transaction under an advisory lock, so N nodes starting at once against a
 * fresh database are safe: the first creates the tables, the others wait on the lock and
 * then find the version current. DDL is transactional in PostgreSQL, so a migration either
 * happened completely or not at all.
 *
 * The layout mirrors the SQLite store's (sqlite-store.ts) so the two engines behave alike:
 * every user has a mailbox (`users.head_seq` its newest entry, `delivered_seq` its delivered
 * mark, `removed_upto` how far retention removed it); an entry is (owner, seq) → message; a
 * message row holds the body once and doubles as the (sender, id) idempotency record,
 * reference-counted by its entries so it lives exactly as long as they do. Sequence numbers
 * are assigned from `users.head_seq` under the user row's lock, never from a sequence: a
 * sequence hands out numbers in one order and transactions commit in another, and a reader
 * that moved its cursor past a number not yet committed would skip that row for good.
 */

/** Advisory lock keys: (namespace, what). The namespace is 'pige' in ASCII. */
export const LOCK_NAMESPACE = 0x70696765;
export const LOCK_MIGRATE = 1;
export const LOCK_RETENTION = 2;

/** SQL, or code for a step that needs it (it runs inside the migration's transaction). */
const MIGRATIONS: readonly (string | ((conn: PgConn) => Promise<void>))[] = [
  // 1: the baseline.
  `
  CREATE TABLE users (
    id text PRIMARY KEY,
    password_hash text,
    tag text NOT NULL,
    head_seq bigint NOT NULL DEFAULT 0,
    delivered_seq bigint NOT NULL DEFAULT 0,
    removed_upto bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    token_epoch integer NOT NULL DEFAULT 0
  );
  CREATE TABLE messages (
    rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender text NOT NULL,
    id text NOT NULL,
    recipient text NOT NULL,
    body text NOT NULL,
    ts bigint NOT NULL,
    recipient_seq bigint NOT NULL,
    refs integer NOT NULL
  );
  CREATE UNIQUE INDEX messages_sender_id ON messages (sender, id);
  CREATE TABLE entries (
    owner text NOT NULL,
    seq bigint NOT NULL,
    peer text NOT NULL,
    msg bigint NOT NULL,
    ts bigint NOT NULL,
    PRIMARY KEY (owner, seq)
  );
  CREATE INDEX entries_peer ON entries (owner, peer, seq);
  CREATE TABLE revoked_tokens (id text PRIMARY KEY, expires_at bigint NOT NULL);
  `,
  // 2: the chat features (issue 10); see pg-feature-schema.ts.
  migrateTo2,
];

/** The schema version this build writes and reads. */
export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** The database was migrated by a newer Pigeon; this one must not touch it. */
export class SchemaTooNewError extends Error {
  readonly code = 'schema_too_new';
  constructor(readonly found: number) {
    super(
      `the PostgreSQL database is at schema version ${found}, newer than this server's ${PG_SCHEMA_VERSION}: upgrade the server`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the database to PG_SCHEMA_VERSION; returns the version it found. */
export async function migrate(db: PgClient): Promise<number> {
  return db.transaction(async ({ conn, begun }) => {
    // Held until COMMIT: other nodes starting now wait here, then see the new version.
    await Promise.all([
      begun,
      conn.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATE]),
    ]);
    await conn.query('CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)');
    const rows = (await conn.query("SELECT value FROM meta WHERE key = 'schema'")).rows as {
      value: string;
    }[];
    const found = rows[0] ? Number(rows[0].value) : 0;
    if (found > PG_SCHEMA_VERSION) throw new SchemaTooNewError(found);
    for (let v = found; v < PG_SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v]!;
      if (typeof step === 'string') await conn.query(step);
      else await step(conn);
    }
    if (found !== PG_SCHEMA_VERSION) {
      await conn.query(
        `INSERT INTO meta (key, value) VALUES ('schema', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(PG_SCHEMA_VERSION)],
      );
    }
    return found;
  });
}
