import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mid, register, session, startServer } from './helpers.js';

describe('slow consumer', () => {
  it('a connection that stops reading is closed 4008 once its unsent buffer passes the bound; nothing is lost', async () => {
    const r = await startServer({ rate: 1_000_000, maxBufferedBytes: 2 * 1024 * 1024 });
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      const socket = (cb.ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const ids = Array.from({ length: 3000 }, () => mid('slow'));
      const body = 'x'.repeat(4000);
      for (const id of ids) ca.send({ t: 'send', id, to: b.id, body });
      await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === ids.length, 'all sent', 30_000);
      // The sender is unaffected.
      expect(ca.closeInfo).toBeNull();
      // Every `sent` is back, so every echo was written to b's socket already: the bound was
      // passed (and the close decided) before b reads again.
      socket.resume();
      expect((await cb.waitClose(15_000)).code).toBe(4008);
      // Nothing was acked: the next connection gets every entry, in order.
      const again = await session(r.wsUrl, b.token);
      expect(again.backlog.map((m) => m.id)).toEqual(ids);
    } finally {
      await r.stop();
    }
  });

  it('a long backlog is paced, not closed: 3000 × 4000-char entries replay through a small bound', async () => {
    const r = await startServer({ rate: 1_000_000, maxBufferedBytes: 2 * 1024 * 1024 });
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const ids = Array.from({ length: 3000 }, () => mid('bl'));
      for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: 'y'.repeat(4000) });
      await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === ids.length, 'all sent', 30_000);
      const cb = await session(r.wsUrl, b.token);
      expect(cb.backlog.map((m) => m.id)).toEqual(ids);
      expect(cb.closeInfo).toBeNull();
    } finally {
      await r.stop();
    }
  });
});
