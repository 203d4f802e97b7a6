import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_SCHEMA_VERSION } from '../src/store/pg-schema.js';
import { PgStore } from '../src/store/pg-store.js';
import {
  type PostgresEngine,
  requirePostgres,
  startPostgres,
  uniqueDatabase,
  withClient,
} from './engines/postgres.js';

/** Schema version 1 of the PostgreSQL store (before the chat features), with a little data. */
const V1 = `
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE users (
  id text PRIMARY KEY, password_hash text, tag text NOT NULL, head_seq bigint NOT NULL DEFAULT 0,
  delivered_seq bigint NOT NULL DEFAULT 0, removed_upto bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL,
  token_epoch integer NOT NULL DEFAULT 0);
CREATE TABLE messages (
  rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sender text NOT NULL, id text NOT NULL,
  recipient text NOT NULL, body text NOT NULL, ts bigint NOT NULL, recipient_seq bigint NOT NULL, refs integer NOT NULL);
CREATE UNIQUE INDEX messages_sender_id ON messages (sender, id);
CREATE TABLE entries (owner text NOT NULL, seq bigint NOT NULL, peer text NOT NULL, msg bigint NOT NULL,
  ts bigint NOT NULL, PRIMARY KEY (owner, seq));
CREATE INDEX entries_peer ON entries (owner, peer, seq);
CREATE TABLE revoked_tokens (id text PRIMARY KEY, expires_at bigint NOT NULL);
INSERT INTO meta VALUES ('schema', '1');
-- a: 1 m1 to b, 2 m2 from b, 3 a note ; b: 1 m1 from a, 2 m2 to a
INSERT INTO users (id, password_hash, tag, head_seq, created_at) VALUES
  ('a', NULL, 'aaaaaaaa', 3, 1), ('b', NULL, 'bbbbbbbb', 2, 1);
INSERT INTO messages (sender, id, recipient, body, ts, recipient_seq, refs) VALUES
  ('a', 'm1', 'b', 'hello world', 1001, 1, 2), ('b', 'm2', 'a', '我会说中文', 1002, 2, 2), ('a', 'note', 'a', 'self', 1003, 3, 1);
INSERT INTO entries VALUES ('a', 1, 'b', 1, 1001), ('a', 2, 'b', 2, 1002), ('a', 3, 'a', 3, 1003),
  ('b', 1, 'a', 1, 1001), ('b', 2, 'a', 2, 1002);
`;

describe.runIf(requirePostgres('the PostgreSQL chat-features migration'))('PostgreSQL schema 1 → 2', () => {
  let pg: PostgresEngine;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('keeps every message and entry, indexes the old bodies for search, and finds each sender entry', async () => {
    const url = await pg.createDatabase(uniqueDatabase('migrate'));
    await withClient(url, (c) => c.query(V1));
    // Within the edit window of m1 (ts 1001).
    const now = 2001;
    const store = await PgStore.open({
      url,
      poolSize: 2,
      mailboxMax: 100,
      retentionDays: 30,
      now: () => now,
    });
    try {
      const version = await withClient(
        url,
        async (c) => (await c.query("SELECT value FROM meta WHERE key = 'schema'")).rows,
      );
      expect(version).toEqual([{ value: String(PG_SCHEMA_VERSION) }]);
      const h = await store.history('a', 'b', null, 10);
      expect(h.items.map((m) => [m.id, m.body, m.read])).toEqual([
        ['m1', 'hello world', false],
        ['m2', '我会说中文', false],
      ]);
      const found = async (user: string, q: string) =>
        (await store.search(user, { q, with: null, beforeSeq: null, limit: 10 })).items.map((i) => i.msg.id);
      expect(await found('a', 'HELLO')).toEqual(['m1']);
      expect(await found('b', '中文')).toEqual(['m2']);
      expect(await found('a', 'self')).toEqual(['note']);
      // The sender's entries were found (sender_seq): a may edit its message and hide its note.
      const admit = async (ops: readonly unknown[]) => ops.map(() => null);
      const results = await store.commit(
        [
          { kind: 'edit', user: 'a', ref: { from: 'a', id: 'm1' }, body: 'hello there' },
          { kind: 'hide', user: 'a', ref: { from: 'a', id: 'note' } },
          { kind: 'react', user: 'b', ref: { from: 'a', id: 'm1' }, emoji: '👍' },
        ],
        admit,
      );
      expect(results.map((r) => r.kind)).toEqual(['applied', 'applied', 'applied']);
      expect(await found('b', 'there')).toEqual(['m1']);
      expect(await found('a', 'self')).toEqual([]);
      expect((await store.mailbox('a'))!.headSeq).toBe(6);
    } finally {
      await store.close();
    }
  });
});
