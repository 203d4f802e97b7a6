import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgClient } from '../src/store/pg-client.js';
import { migrate, PG_SCHEMA_VERSION } from '../src/store/pg-schema.js';
import { PgStore } from '../src/store/pg-store.js';
import type { AdmitOp } from '../src/store/store.js';
import {
  type PostgresEngine,
  requirePostgres,
  startPostgres,
  uniqueDatabase,
  withClient,
} from './engines/postgres.js';

describe.runIf(requirePostgres('the PostgreSQL chat-features migration'))(
  'PostgreSQL schema 2 → 3 (issue 10)',
  () => {
    let pg: PostgresEngine;
    beforeAll(async () => {
      pg = await startPostgres();
    });
    afterAll(async () => {
      await pg?.destroy();
    });

    it('keeps every message, indexes the old bodies for search, and lets the chat features work on them', async () => {
      const url = await pg.createDatabase(uniqueDatabase('migrate'));
      const old = new PgClient({ url, max: 1 });
      try {
        await migrate(old, 2);
        // As a version-2 server left it: a→b, b→a (in Chinese), a note to self.
        await old.query({
          text: `INSERT INTO users (id, tag, head_seq, created_at) VALUES ('a', 'aaaaaaaa', 3, 0), ('b', 'bbbbbbbb', 2, 0)`,
        });
        await old.query({
          text: `INSERT INTO messages (sender, id, recipient, conv, body, ts, sseq, rseq) VALUES
          ('a', 'm1', 'b', 1, 'hello world', 1001, 1, 1), ('b', 'm2', 'a', 1, '我会说中文', 1002, 2, 2),
          ('a', 'note', 'a', 2, 'self', 1003, 3, 3)`,
        });
        await old.query({
          text: `INSERT INTO conversations (owner, peer, conv, last_seq) VALUES
          ('a', 'b', 1, 2), ('b', 'a', 1, 2), ('a', 'a', 2, 3)`,
        });
      } finally {
        await old.close();
      }
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
          (await store.search(user, { q, with: null, beforeSeq: null, limit: 10 })).items.map(
            (i) => i.msg.id,
          );
        expect(await found('a', 'HELLO')).toEqual(['m1']);
        expect(await found('b', '中文')).toEqual(['m2']);
        expect(await found('a', 'self')).toEqual(['note']);
        // Only one's own mailbox: b has no note to a's self.
        expect(await found('b', 'self')).toEqual([]);
        const admit = async (ops: readonly AdmitOp[]) => ops.map(() => null);
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
  },
);
