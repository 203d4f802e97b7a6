import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from './child.js';
import { type PostgresEngine, requirePostgres, startPostgres, uniqueDatabase } from './engines/postgres.js';
import {
  type Frame,
  http,
  mid,
  register,
  type Session,
  sendAndWait,
  session,
  startServer,
} from './helpers.js';

/*
 * Nodes on PostgreSQL when PostgreSQL fails, and several nodes on one database. Each test
 * has a cluster of its own when it stops it; the rest share one.
 */

/** Sends `ids` from `c` to `to` keeping `window` unanswered at most; resolves with each answer. */
async function pump(c: Session, to: string, ids: string[], window: number): Promise<Map<string, Frame>> {
  const answers = new Map<string, Frame>();
  let next = 0;
  const answered = (f: Frame) => (f.t === 'sent' || f.t === 'error') && typeof f.id === 'string';
  let seen = c.frames.length;
  while (answers.size < ids.length) {
    while (next < ids.length && next - answers.size < window) {
      c.send({ t: 'send', id: ids[next], to, body: `body ${ids[next]}` });
      next++;
    }
    await c.until(() => c.frames.slice(seen).some(answered), 'an answer', 20_000);
    for (; seen < c.frames.length; seen++) {
      const f = c.frames[seen]!;
      if (answered(f)) answers.set(String(f.id), f);
    }
  }
  return answers;
}

describe.runIf(requirePostgres('PostgreSQL fault tests'))('nodes on PostgreSQL', () => {
  let shared: PostgresEngine;
  beforeAll(async () => {
    shared = await startPostgres();
  });
  afterAll(async () => {
    await shared?.destroy();
  });

  it('PostgreSQL stopped (-m immediate) under load: sends answer internal, /healthz 503; it restarts: the node recovers by itself and nothing acknowledged is lost', async () => {
    const pg = await startPostgres();
    const r = await startServer({ databaseUrl: await pg.createDatabase(uniqueDatabase()), rate: 100_000 });
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const ids = Array.from({ length: 600 }, () => mid('pgf'));
      // Stop PostgreSQL once a third has been acknowledged, while sends keep coming.
      let stopped: Promise<void> | null = null;
      const watcher = ca
        .until(() => ca.frames.filter((f) => f.t === 'sent').length >= 200, '200 sent', 20_000)
        .then(() => {
          stopped = pg.stop('immediate');
        });
      const first = await pump(ca, b.id, ids, 20);
      await watcher;
      await stopped;
      const failed = ids.filter((id) => first.get(id)?.t === 'error');
      const acked = ids.filter((id) => first.get(id)?.t === 'sent');
      expect(failed.length).toBeGreaterThan(0);
      expect(acked.length).toBeGreaterThanOrEqual(200);
      for (const id of failed) expect(first.get(id)).toMatchObject({ t: 'error', code: 'internal', id });
      // A good probe is reused for a second, so the 503 comes within that.
      await expect
        .poll(async () => (await http(r.url, 'GET', '/healthz')).status, { timeout: 5000 })
        .toBe(503);
      const metrics = await http(r.url, 'GET', '/metrics');
      expect(metrics.text).toMatch(/^pigeon_db_up 0$/m);

      await pg.start();
      await expect
        .poll(async () => (await http(r.url, 'GET', '/healthz')).status, { timeout: 15_000 })
        .toBe(200);
      // The same connection, never reopened: what failed is resent (same ids) and now stored.
      const again = await pump(ca, b.id, failed, 20);
      expect([...again.values()].filter((f) => f.t !== 'sent')).toEqual([]);
      const cb = await session(r.wsUrl, b.token);
      const got = cb.backlog.map((m) => String(m.id));
      // Everything acknowledged is there, and nothing twice.
      expect(new Set(got).size).toBe(got.length);
      expect(got.sort()).toEqual([...ids].sort());
      // What was acknowledged before the crash kept its order.
      const order = cb.backlog.map((m) => String(m.id)).filter((id) => acked.includes(id));
      expect(order).toEqual(acked);
    } finally {
      await r.stop();
      await pg.destroy();
    }
  });

  it('a node started while PostgreSQL is down does not start (clear error); one whose database comes back serves again', async () => {
    const pg = await startPostgres();
    const url = await pg.createDatabase(uniqueDatabase());
    await pg.stop('fast');
    try {
      const err = await startServer({ databaseUrl: url }).then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).toBe('ECONNREFUSED');
      await pg.start();
      const r = await startServer({ databaseUrl: url });
      expect((await http(r.url, 'GET', '/healthz')).status).toBe(200);
      await r.stop();
    } finally {
      await pg.destroy();
    }
  });

  it('kill -9 of a node under load: its client moves to another node and resends what had no `sent`; nothing acknowledged is lost, nothing is stored twice, order is kept', async () => {
    const url = await shared.createDatabase(uniqueDatabase());
    const secret = 'kill-test-secret-0123456789abcdef';
    const victim = await startChild({
      PIGEON_DATABASE_URL: url,
      PIGEON_SECRET: secret,
      PIGEON_RATE: '100000',
    });
    const other = await startServer({ databaseUrl: url, secret, rate: 100_000 });
    try {
      const a = await register(victim.url);
      const b = await register(victim.url);
      const ca = await session(victim.wsUrl, a.token);
      const ids = Array.from({ length: 1500 }, () => mid('k9'));
      for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: `body ${id}` });
      await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length >= 200, '200 sent', 20_000);
      victim.proc.kill('SIGKILL');
      await victim.exited;
      const acked = new Set(ca.frames.filter((f) => f.t === 'sent').map((f) => String(f.id)));
      // The client's outbox: everything without `sent`, resent in order to the other node.
      const ca2 = await session(other.wsUrl, a.token);
      const resend = ids.filter((id) => !acked.has(id));
      const answers = await pump(ca2, b.id, resend, 100);
      expect([...answers.values()].filter((f) => f.t !== 'sent')).toEqual([]);
      const cb = await session(other.wsUrl, b.token);
      expect(cb.backlog.map((m) => m.id)).toEqual(ids);
    } finally {
      if (victim.proc.exitCode === null && victim.proc.signalCode === null) victim.proc.kill('SIGKILL');
      await other.stop();
    }
  });

  it('two nodes on one database: a token of one is valid on the other (shared secret), and A→B / B→A at once all arrive in order', async () => {
    const url = await shared.createDatabase(uniqueDatabase());
    const n1 = await startServer({ databaseUrl: url, secret: null, rate: 100_000 });
    const n2 = await startServer({ databaseUrl: url, secret: null, rate: 100_000 });
    try {
      const a = await register(n1.url);
      const b = await register(n2.url);
      // a on node 1 and node 2 with the token node 1 issued; b likewise with node 2's.
      const a1 = await session(n1.wsUrl, a.token);
      const b2 = await session(n2.wsUrl, b.token);
      const fromA = Array.from({ length: 300 }, () => mid('ab'));
      const fromB = Array.from({ length: 300 }, () => mid('ba'));
      const [ra, rb] = await Promise.all([pump(a1, b.id, fromA, 50), pump(b2, a.id, fromB, 50)]);
      expect([...ra.values(), ...rb.values()].filter((f) => f.t !== 'sent')).toEqual([]);
      // Each side reads its mailbox from the OTHER node: both directions, each in send order.
      const a2 = await session(n2.wsUrl, a.token);
      const b1 = await session(n1.wsUrl, b.token);
      const inbox = (s: Session, from: string) => s.backlog.filter((m) => m.from === from).map((m) => m.id);
      expect(inbox(a2, b.id)).toEqual(fromB);
      expect(inbox(a2, a.id)).toEqual(fromA);
      expect(inbox(b1, a.id)).toEqual(fromA);
      expect(inbox(b1, b.id)).toEqual(fromB);
      // A resend through the other node is a duplicate, answered `sent` with the same ts.
      const dup = await sendAndWait(a2, b.id, 'again', fromA[0]);
      expect(dup).toMatchObject({ t: 'sent', ts: ra.get(fromA[0]!)!.ts });
    } finally {
      await n1.stop();
      await n2.stop();
    }
  });
});
