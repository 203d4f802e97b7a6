import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Client, register, session, startServer } from './helpers.js';

describe('server pings', () => {
  it('keeps connections that answer pings and drops one that missed the previous ping', async () => {
    const r = await startServer({ pingIntervalMs: 100 });
    try {
      const a = await register(r.url);
      const good = await session(r.wsUrl, a.token);
      let pings = 0;
      good.ws.on('ping', () => pings++);
      const ws = new WebSocket(`${r.wsUrl}/ws`, { autoPong: false });
      const silent = new Client(ws);
      await new Promise((resolve) => ws.once('open', resolve));
      silent.send({ t: 'hello', v: 1, token: a.token });
      await silent.waitFor((f) => f.t === 'synced');
      const closed = await silent.waitClose(2000);
      // Terminated without a close frame.
      expect(closed.code).toBe(1006);
      // Three more ping rounds (events, not a wait on the clock): the answering one stays.
      const seen = pings;
      await new Promise<void>((resolve) => {
        const check = () => (pings >= seen + 3 ? resolve() : good.ws.once('ping', () => setImmediate(check)));
        check();
      });
      expect(good.closeInfo).toBeNull();
      good.send({ t: 'ping', rid: 'still' });
      await good.waitFor((f) => f.rid === 'still');
    } finally {
      await r.stop();
    }
  });
});
