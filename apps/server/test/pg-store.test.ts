// Over ~300 lines on purpose: one subject, what only the PostgreSQL store has (migrations under
// the advisory lock, the token secret, concurrency across nodes, retention slices, backups, health).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgClient } from '../src/store/pg-client.js';
import {
  LOCK_NAMESPACE,
  LOCK_RETENTION,
  migrate,
  PG_SCHEMA_VERSION,
  SchemaTooNewError,
} from '../src/store/pg-schema.js';
import { PgStore, type PgStoreOptions } from '../src/store/pg-store.js';
import type { Admit, OpResult, SendOp } from '../src/store/store.js';
import {
  findBinDir,
  type PostgresEngine,
  requirePostgres,
  startPostgres,
  uniqueDatabase,
  withClient,
} from './engines/postgres.js';

/*
 * What only the PostgreSQL store has to prove (the shared behaviour is the store contract,
 * store-contract/postgres.test.ts): several nodes on one database at once (migrations, the
 * shared secret, A→B and B→A without deadlocks, one sweeper at a time), the session
 * settings durability depends on, and health.
 */

const admitAll: Admit = async (sends) => sends.map(() => null);
const DAY = 86_400_000;

function send(from: string, to: string, id: string): SendOp {
  return { kind: 'send', from, to, id, body: `body ${id}` };
}

describe.runIf(requirePostgres('PostgreSQL store tests'))('PostgreSQL store', () => {
  let pg: PostgresEngine;
  const opened: PgStore[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await pg?.destroy();
  });

  async function open(url: string, extra: Partial<PgStoreOptions> = {}): Promise<PgStore> {
    const store = await PgStore.open({ url, poolSize: 4, mailboxMax: 10_000, retentionDays: 30, ...extra });
    opened.push(store);
    return store;
  }

  /** Rows of one statement run on a connection of its own. */
  async function admin(url: string, text: string, values: unknown[] = []): Promise<unknown[]> {
    return withClient(url, async (c) => (await c.query(text, values)).rows);
  }

  it('eight nodes starting at once on an empty database migrate it once and all open', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const stores = await Promise.all(Array.from({ length: 8 }, () => open(url)));
    expect(stores).toHaveLength(8);
    const version = await admin(url, "SELECT value FROM meta WHERE key = 'schema'");
    expect(version).toEqual([{ value: String(PG_SCHEMA_VERSION) }]);
    // Every node sees the same data.
    expect(await stores[0]!.createUser('alice', null)).toBe(true);
    expect(await stores[7]!.createUser('alice', null)).toBe(false);
  });

  it('refuses a database migrated by a newer server (code schema_too_new) and leaves it alone', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    await (await open(url)).close();
    const newer = PG_SCHEMA_VERSION + 1;
    await admin(url, "UPDATE meta SET value = $1 WHERE key = 'schema'", [String(newer)]);
    const err = await open(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).code).toBe('schema_too_new');
    const version = await admin(url, "SELECT value FROM meta WHERE key = 'schema'");
    expect(version).toEqual([{ value: String(newer) }]);
  });

  it('migrates a version-1 database (message + entry rows) to one row per message, keeping every read', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const old = new PgClient({ url, max: 1 });
    try {
      await migrate(old, 1);
      // As a version-1 server left it: a→b twice, b→a once, a note to self; b acked seq 1;
      // retention removed a's first entry (a.removed_upto = 1).
      await old.query({
        text: `INSERT INTO users (id, tag, head_seq, delivered_seq, removed_upto, created_at) VALUES
          ('a', 'aaaaaaaa', 4, 0, 1, 0), ('b', 'bbbbbbbb', 3, 1, 0, 0)`,
      });
      await old.query({
        text: `INSERT INTO messages (rowid, sender, id, recipient, body, ts, recipient_seq, refs)
          OVERRIDING SYSTEM VALUE VALUES
          (1, 'a', 'm1', 'b', 'one', 100, 1, 1), (2, 'a', 'm2', 'b', 'two', 200, 2, 2),
          (3, 'b', 'm3', 'a', 'three', 300, 3, 2), (4, 'a', 'm4', 'a', 'self', 400, 4, 1)`,
      });
      await old.query({
        text: `INSERT INTO entries (owner, seq, peer, msg, ts) VALUES
          ('b', 1, 'a', 1, 100), ('b', 2, 'a', 2, 200), ('a', 2, 'b', 2, 200),
          ('a', 3, 'b', 3, 300), ('b', 3, 'a', 3, 300), ('a', 4, 'a', 4, 400)`,
      });
    } finally {
      await old.close();
    }
    const store = await open(url);
    expect(await admin(url, "SELECT value FROM meta WHERE key = 'schema'")).toEqual([
      { value: String(PG_SCHEMA_VERSION) },
    ]);
    const ids = async (u: string) =>
      (await store.readRange(u, 0, 100, 100)).map((e) =>
        e.frame.t === 'msg' ? [e.seq, e.frame.id, e.frame.delivered] : [e.seq, e.frame.kind],
      );
    expect(await ids('b')).toEqual([
      [1, 'm1', true],
      [2, 'm2', false],
      [3, 'm3', false],
    ]);
    // a's seq 1 (m1's sender entry) was removed; m3 is a's receipt of b's message.
    expect(await ids('a')).toEqual([
      [2, 'm2', false],
      [3, 'm3', false],
      [4, 'm4', false],
    ]);
    const hist = await store.history('b', 'a', null, 10);
    expect(hist.items.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    const convs = await store.conversations('a', { limit: 10, beforeSeq: null });
    expect(convs.items.map((c) => [c.with, c.last.id])).toEqual([
      ['a', 'm4'],
      ['b', 'm3'],
    ]);
    // Duplicates still answer with the original ts; new sends continue the sequences.
    const [dup, fresh] = await store.commit([send('a', 'b', 'm2'), send('b', 'a', 'm5')], admitAll);
    expect(dup).toEqual({ kind: 'duplicate', ts: 200 });
    expect(fresh).toMatchObject({
      kind: 'stored',
      entries: [
        { owner: 'a', seq: 5 },
        { owner: 'b', seq: 4 },
      ],
    });
    expect((await store.history('a', 'b', null, 10)).items.map((m) => m.id)).toEqual(['m2', 'm3', 'm5']);
  });

  it('generates the token secret once, in the database: every node gets the same one', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    const secrets = await Promise.all(stores.map((s) => s.sharedSecret()));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^[0-9a-f]{64}$/);
    const later = await open(url);
    expect(await later.sharedSecret()).toBe(secrets[0]);
  });

  it('keeps synchronous_commit on for its sessions even when the database default is off', async () => {
    const name = uniqueDatabase();
    const url = await pg.createDatabase(name);
    await admin(url, `ALTER DATABASE ${name} SET synchronous_commit = off`);
    expect(await admin(url, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'off' }]);
    const client = new PgClient({ url, max: 1 });
    try {
      expect(await client.query({ text: 'SHOW synchronous_commit' })).toEqual([{ synchronous_commit: 'on' }]);
    } finally {
      await client.close();
    }
  });

  it('A→B and B→A committed at once from two nodes never deadlock, and sequences stay gapless', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const [n1, n2] = await Promise.all([open(url), open(url)]);
    const users = ['a', 'b', 'c', 'd'];
    for (const u of users) await n1!.createUser(u, null);
    // Each round: node 1 commits a batch a→b, b→c, c→d, d→a while node 2 commits the
    // reverse directions; every batch locks overlapping rows that the other also locks.
    const rounds = 60;
    const results: Promise<OpResult[]>[] = [];
    for (let r = 0; r < rounds; r++) {
      results.push(
        n1!.commit(
          users.map((u, i) => send(u, users[(i + 1) % 4]!, `f${r}_${i}`)),
          admitAll,
        ),
        n2!.commit(
          users.map((u, i) => send(users[(i + 1) % 4]!, u, `r${r}_${i}`)),
          admitAll,
        ),
      );
    }
    const all = (await Promise.all(results)).flat();
    expect(all.filter((r) => r.kind !== 'stored')).toEqual([]);
    // 60 rounds × 8 sends, each making one entry in two of the four mailboxes.
    for (const u of users) {
      const box = (await n2!.mailbox(u))!;
      expect(box.headSeq).toBe((rounds * 8 * 2) / 4);
      const seqs = (await n2!.readRange(u, 0, box.headSeq, 10_000)).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: box.headSeq }, (_, i) => i + 1));
    }
    const deadlocks = await admin(
      url,
      'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    expect(deadlocks).toEqual([{ n: 0 }]);
  });

  it('the same (from, id) sent through two nodes at once is stored once; the other answer is duplicate', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const [n1, n2] = await Promise.all([open(url), open(url)]);
    await n1!.createUser('a', null);
    await n1!.createUser('b', null);
    for (let i = 0; i < 20; i++) {
      const [[r1], [r2]] = await Promise.all([
        n1!.commit([send('a', 'b', `same${i}`)], admitAll),
        n2!.commit([send('a', 'b', `same${i}`)], admitAll),
      ]);
      expect([r1!.kind, r2!.kind].sort()).toEqual(['duplicate', 'stored']);
      // The duplicate carries the stored message's ts.
      expect((r1 as { ts: number }).ts).toBe((r2 as { ts: number }).ts);
    }
    expect((await n1!.mailbox('b'))!.headSeq).toBe(20);
  });

  it('a rejecting admit stores nothing and releases the row locks', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const store = await open(url);
    await store.createUser('a', null);
    await store.createUser('b', null);
    const failing: Admit = async () => {
      throw new Error('limiter down');
    };
    await expect(store.commit([send('a', 'b', 'x1')], failing)).rejects.toThrow('limiter down');
    expect((await store.mailbox('b'))!.headSeq).toBe(0);
    const [r] = await store.commit([send('a', 'b', 'x1')], admitAll);
    expect(r).toMatchObject({ kind: 'stored' });
  });

  describe('retention', () => {
    it('sweeps on one node at a time: while another holds the sweep lock, a node removes nothing', async () => {
      let now = Date.UTC(2026, 0, 1);
      const url = await pg.createDatabase(uniqueDatabase());
      const store = await open(url, { mailboxMax: 2, retentionDays: 1, now: () => now });
      await store.createUser('a', null);
      await store.createUser('b', null);
      await store.commit(
        Array.from({ length: 5 }, (_, i) => send('a', 'b', `o${i}`)),
        admitAll,
      );
      now += DAY + 1;
      await withClient(url, async (holder) => {
        await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCK_RETENTION]);
        expect(await store.sweepRetention(now)).toBe(0);
        await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_RETENTION]);
      });
      // 3 of 5 entries may go in each of the two mailboxes.
      expect(await store.sweepRetention(now)).toBe(6);
      expect(await store.mailbox('b')).toMatchObject({ headSeq: 5, removedUpto: 3 });
      const left = await admin(url, 'SELECT count(*)::int AS n FROM messages');
      expect(left).toEqual([{ n: 2 }]);
    });

    it('removes in slices, each its own transaction: a send to the swept mailbox commits meanwhile', async () => {
      let now = Date.UTC(2026, 0, 1);
      const url = await pg.createDatabase(uniqueDatabase());
      const store = await open(url, { mailboxMax: 1, retentionDays: 1, now: () => now, retentionSlice: 20 });
      await store.createUser('a', null);
      await store.createUser('b', null);
      const total = 3000;
      for (let k = 0; k < total; k += 500) {
        await store.commit(
          Array.from({ length: 500 }, (_, i) => send('a', 'b', `s${k + i}`)),
          admitAll,
        );
      }
      now += DAY + 1;
      let sweepDone = false;
      const sweep = store.sweepRetention(now).then((n) => {
        sweepDone = true;
        return n;
      });
      // Wait (on the database, not a timer) until the sweep has committed its first slice of
      // 'a' (swept first, then 'b'), then send a→b: the send must not wait for the sweep.
      await withClient(url, async (c) => {
        for (;;) {
          const { rows } = await c.query("SELECT removed_upto::int AS r FROM users WHERE id = 'a'");
          if ((rows[0]?.r ?? 0) > 0) return;
          await c.query('SELECT pg_sleep(0.005)');
        }
      });
      const [late] = await store.commit([send('a', 'b', 'late')], admitAll);
      expect(late).toMatchObject({ kind: 'stored' });
      expect(sweepDone).toBe(false);
      // Both mailboxes: everything but the newest entry (the sweep read heads before 'late').
      expect(await sweep).toBe((total - 1) * 2);
      expect(await store.mailbox('b')).toMatchObject({ headSeq: total + 1, removedUpto: total - 1 });
    });
  });

  it('the README backup: pg_dump while a node writes, pg_restore into a new database, a node opens it with everything the dump saw', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const store = await open(url);
    await store.createUser('a', null);
    await store.createUser('b', null);
    await store.commit(
      Array.from({ length: 50 }, (_, i) => send('a', 'b', `before${i}`)),
      admitAll,
    );
    const secret = await store.sharedSecret();
    const dump = path.join(pg.dir, 'pigeon.dump');
    const bin = findBinDir()!;
    const run = promisify(execFile);
    // Sends keep committing while the dump runs: it still sees one consistent snapshot.
    const writing = (async () => {
      for (let i = 0; i < 20; i++) await store.commit([send('a', 'b', `during${i}`)], admitAll);
    })();
    await run(path.join(bin, 'pg_dump'), ['--format=custom', `--file=${dump}`, url]);
    await writing;
    const restored = await pg.createDatabase(uniqueDatabase('restored'));
    await run(path.join(bin, 'pg_restore'), ['--no-owner', `--dbname=${restored}`, dump]);
    const copy = await open(restored);
    const box = (await copy.mailbox('b'))!;
    const ids = (await copy.readRange('b', 0, box.headSeq, 1000)).map((e) =>
      e.frame.t === 'msg' ? e.frame.id : e.frame.kind,
    );
    // A prefix of what was sent, gapless, including everything committed before the dump.
    expect(ids.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `before${i}`));
    expect(ids.slice(50)).toEqual(Array.from({ length: ids.length - 50 }, (_, i) => `during${i}`));
    expect(box.headSeq).toBe(ids.length);
    expect(await copy.sharedSecret()).toBe(secret);
    // The restored database goes on: sequences and conversation ids continue.
    const [r] = await copy.commit([send('b', 'a', 'after')], admitAll);
    expect(r).toMatchObject({
      kind: 'stored',
      entries: [{ owner: 'a' }, { owner: 'b', seq: ids.length + 1 }],
    });
  });

  it('health: a pool whose every connection is busy still answers healthy (the probe has its own connection)', async () => {
    const url = await pg.createDatabase(uniqueDatabase());
    const client = new PgClient({ url, max: 1 });
    try {
      const inside = await client.withConnection(async (conn) => {
        await conn.query('SELECT 1');
        return client.healthy();
      });
      expect(inside).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('health: false while PostgreSQL is down, true again after it restarts, without reopening', async () => {
    const own = await startPostgres();
    try {
      const url = await own.createDatabase(uniqueDatabase());
      const store = await PgStore.open({ url, poolSize: 2, mailboxMax: 10, retentionDays: 1 });
      try {
        await store.createUser('a', null);
        expect(await store.healthy()).toBe(true);
        await own.stop('immediate');
        await expect.poll(() => store.healthy(), { timeout: 10_000 }).toBe(false);
        await own.start();
        await expect.poll(() => store.healthy(), { timeout: 10_000 }).toBe(true);
        expect(await store.getUser('a')).toMatchObject({ id: 'a' });
      } finally {
        await store.close();
      }
    } finally {
      await own.destroy();
    }
  });
});
