import { describe, expect, it } from 'vitest';
import { type Frame, fence, mid, register, sendAndWait, session, startServer } from './helpers.js';

describe('retention', () => {
  it('removes entries beyond PIGEON_MAILBOX_MAX that are older than PIGEON_RETENTION_DAYS; gap tells', async () => {
    const r = await startServer({ mailboxMax: 5, retentionDays: 0, rate: 100_000 });
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(String((await sendAndWait(ca, b.id, `r${i}`, mid('ret'))).id));
      await cb.until(() => cb.msgs().length === 12, '12 at b');
      const cursors = cb.msgs().map((m) => String(m.cursor));
      // The newest 5 of each mailbox stay; 7 go.
      expect(await r.server.sweepRetention()).toBe(14);
      expect(await r.server.sweepRetention()).toBe(0);

      const oldSince = await session(r.wsUrl, b.token, cursors[2]);
      expect(oldSince.synced.gap).toBe(true);
      expect(oldSince.backlog.map((m) => m.id)).toEqual(ids.slice(7));
      // A cursor whose entry was removed is still a valid position.
      const atEdge = await session(r.wsUrl, b.token, cursors[6]);
      expect(atEdge.synced.gap).toBe(false);
      expect(atEdge.backlog.map((m) => m.id)).toEqual(ids.slice(7));
      const inside = await session(r.wsUrl, b.token, cursors[8]);
      expect(inside.synced.gap).toBe(false);
      expect(inside.backlog.map((m) => m.id)).toEqual(ids.slice(9));
      // No since, nothing acked: what is left, and gap because undelivered entries were removed.
      const fresh = await session(r.wsUrl, b.token);
      expect(fresh.backlog.map((m) => m.id)).toEqual(ids.slice(7));
      expect(fresh.synced.gap).toBe(true);
      // History and conversations only see what is left.
      fresh.send({ t: 'history', with: a.id, rid: 'h' });
      const h = await fresh.waitFor((f) => f.rid === 'h');
      expect((h.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(7));
      expect(h.more).toBe(false);
      // Acking a removed cursor is fine (it is still a cursor of this mailbox).
      fresh.send({ t: 'ack', cursor: cursors[1] });
      fresh.send({ t: 'ping', rid: 'p' });
      await fresh.waitFor((f) => f.rid === 'p');
      expect(fresh.frames.some((f) => f.t === 'error')).toBe(false);
      // History before a removed cursor: nothing older is left.
      fresh.send({ t: 'history', with: a.id, before: cursors[3], rid: 'h2' });
      expect(await fresh.waitFor((f) => f.rid === 'h2')).toMatchObject({ items: [], more: false });
      // A resend of a surviving message is still a duplicate.
      expect((await sendAndWait(ca, b.id, 'again', ids[11])).t).toBe('sent');
      // Nothing new reached b: the pong answers a ping sent after that `sent`, so a push of
      // the resend would have come before it.
      await fence(cb);
      expect(cb.msgs()).toHaveLength(12);
    } finally {
      await r.stop();
    }
  });

  it('keeps everything younger than PIGEON_RETENTION_DAYS even past PIGEON_MAILBOX_MAX, and runs at start', async () => {
    const r = await startServer({ mailboxMax: 2, retentionDays: 30 });
    const a = await register(r.url);
    const b = await register(r.url);
    const ca = await session(r.wsUrl, a.token);
    for (let i = 0; i < 6; i++) await sendAndWait(ca, b.id, `k${i}`);
    expect(await r.server.sweepRetention()).toBe(0);
    await r.stop();
    // Restart with a zero-day retention: the start-up sweep trims to the newest 2.
    const r2 = await startServer({ dbPath: r.dbPath, mailboxMax: 2, retentionDays: 0 }, r.dir);
    try {
      // A session needs several event-loop turns: the start-up sweep (scheduled before
      // listen() resolved) has begun by then, and a second sweep runs after it.
      await session(r2.wsUrl, b.token);
      // Nothing left to remove: the start-up sweep already trimmed the mailbox.
      expect(await r2.server.sweepRetention()).toBe(0);
      const again = await session(r2.wsUrl, b.token);
      expect(again.backlog.map((m) => m.body)).toEqual(['k4', 'k5']);
    } finally {
      await r2.stop();
    }
  });
});
