import { describe, expect, it } from 'vitest';
import { type Frame, register, sendAndWait, session, startServer } from './helpers.js';

// The server frames its text itself (one write per turn); these cross every length encoding
// of a WebSocket frame header: 7-bit (≤125 bytes), 16-bit (126…65,535) and 64-bit.
describe('frame lengths', () => {
  it('frames of every header size arrive intact, in order, with the close after them', async () => {
    const r = await startServer({ rate: 100_000 });
    try {
      const a = await register(r.url);
      const c = await session(r.wsUrl, a.token);
      // msg frames of ~115…185 bytes (ASCII) and up to 12,000 bytes (3-byte UTF-8).
      const bodies: string[] = [];
      for (let n = 1; n <= 70; n++) bodies.push('b'.repeat(n));
      for (const n of [40, 41, 42, 43, 3999, 4000]) bodies.push('€'.repeat(n));
      for (const [i, body] of bodies.entries()) {
        // Pipelined: many frames of different sizes go out in one write.
        c.send({ t: 'send', id: `f${i}`, to: a.id, body });
      }
      await c.until(() => c.msgs().length === bodies.length, 'every echo');
      expect(c.msgs().map((m) => m.body)).toEqual(bodies);
      // 20 × 12,000 bytes in one history frame: a 64-bit length.
      for (let i = 0; i < 20; i++) await sendAndWait(c, a.id, '€'.repeat(4000), `big${i}`);
      c.send({ t: 'history', with: a.id, limit: 20, rid: 'h' });
      const h = await c.waitFor((f) => f.rid === 'h');
      expect(Buffer.byteLength(JSON.stringify(h))).toBeGreaterThan(65_536);
      expect((h.items as Frame[]).map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => `big${i}`));
      // Frames written in the turn that closes come before the close: 101 bad frames
      // get 101 answers, then 4008.
      for (let i = 0; i < 101; i++) c.ws.send('not json');
      const closed = await c.waitClose();
      expect(closed.code).toBe(4008);
      const errors = c.frames.filter((f) => f.t === 'error');
      expect(errors).toHaveLength(101);
    } finally {
      await r.stop();
    }
  });
});
