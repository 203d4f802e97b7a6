import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { onPostgres } from './engines/test-engine.js';
import { mid, register, sendAndWait, session, startServer } from './helpers.js';

// Fails a SQLite commit by holding the file's write lock; PostgreSQL's failures are in pg-faults.test.ts.
describe.skipIf(onPostgres)('store failure', () => {
  it('answers internal (with the id) and stores nothing when the commit fails; a resend then succeeds once', async () => {
    const r = await startServer({});
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      // Another process holding the write lock makes the commit fail after busy_timeout.
      const other = new Database(r.dbPath);
      other.pragma('busy_timeout = 0');
      other.exec('BEGIN IMMEDIATE');
      const id = mid('fail');
      const e = await sendAndWait(ca, b.id, 'during the outage', id);
      expect(e).toMatchObject({ t: 'error', code: 'internal', id });
      other.exec('ROLLBACK');
      other.close();
      const next = await sendAndWait(ca, b.id, 'after', mid('x'));
      expect(next, JSON.stringify(next)).toMatchObject({ t: 'sent' });
      expect(ca.frames.some((f) => f.t === 'sent' && f.id === id)).toBe(false);
      ca.send({ t: 'send', id, to: b.id, body: 'during the outage' });
      await ca.waitFor((f) => f.t === 'sent' && f.id === id, 'sent for the resend');
      await cb.until(() => cb.msgs().length === 2, '2 msgs');
      expect(cb.msgs().filter((m) => m.id === id)).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});
