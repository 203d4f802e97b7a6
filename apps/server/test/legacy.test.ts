import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  type Frame,
  type Running,
  register,
  sendAndWait,
  session,
  sleep,
  startServer,
  uid,
} from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer({ legacy: true, rate: 5 });
});
afterAll(() => s.stop());

const legacy = (user: string, headers: Record<string, string> = {}) =>
  Client.open(`${s.wsUrl}/legacy?user=${encodeURIComponent(user)}`, headers);

describe('legacy endpoint', () => {
  it('is off unless PIGEON_LEGACY=1', async () => {
    const r = await startServer({});
    try {
      const err = await Client.open(`${r.wsUrl}/legacy?user=x`).then(
        () => 0,
        (e: Error & { statusCode?: number }) => e.statusCode,
      );
      expect(err).toBe(404);
    } finally {
      await r.stop();
    }
  });

  it('refuses an invalid user with 400 and a foreign Origin with 403', async () => {
    for (const [user, headers, status] of [
      ['bad id!', {}, 400],
      ['', {}, 400],
      ['x'.repeat(33), {}, 400],
      [uid('lo'), { Origin: 'http://evil.example' }, 403],
    ] as const) {
      const code = await legacy(user, headers).then(
        () => 0,
        (e: Error & { statusCode?: number }) => e.statusCode,
      );
      expect(code).toBe(status);
    }
  });

  it('talks to modern users through the same mailboxes, both ways', async () => {
    const x = uid('Lx');
    const bob = await register(s.url);
    const cb = await session(s.wsUrl, bob.token);
    const lx = await legacy(x);
    lx.send(`${bob.id.toUpperCase()}|hello | with bar`);
    const m1 = await cb.waitFor((f) => f.t === 'msg' && f.body === 'hello | with bar');
    expect(m1.from).toBe(x.toLowerCase());
    expect(m1.to).toBe(bob.id);
    lx.send('no bar: goes to the last recipient');
    await cb.waitFor((f) => f.body === 'no bar: goes to the last recipient');
    // A failing frame (unknown recipient) is dropped and does not change the last recipient.
    lx.send('nobody-here-l|lost');
    lx.send('still to bob');
    await cb.waitFor((f) => f.body === 'still to bob');
    // modern -> legacy arrives as raw body text, and counts as delivered (receipt).
    const sent = await sendAndWait(cb, x, 'hi x');
    await lx.until(() => lx.raw.includes('hi x'), 'raw text at legacy');
    const receipt = await cb.waitFor((f) => f.t === 'receipt' && f.id === sent.id);
    expect(receipt.to).toBe(x.toLowerCase());
    // Its own sends are not echoed to it.
    expect(lx.raw).toEqual(['hi x']);
  });

  it('a frame without | and no recipient yet is dropped; a message to itself arrives once', async () => {
    const y = uid('ly');
    const ly = await legacy(y);
    ly.send('nobody to send to yet');
    ly.send(`${y}|note to self`);
    await ly.until(() => ly.raw.includes('note to self'), 'self message');
    await sleep(100);
    expect(ly.raw).toEqual(['note to self']);
  });

  it('flushes the backlog after the delivered mark on connect, in order, and marks it delivered', async () => {
    const alice = await register(s.url);
    const z = uid('lz');
    const ca = await session(s.wsUrl, alice.token);
    // The legacy user must exist before messages can be sent to it.
    const first = await legacy(z);
    await first.close();
    const bodies = ['one', 'two', 'three'];
    for (const b of bodies) expect((await sendAndWait(ca, z, b)).t).toBe('sent');
    const lz = await legacy(z);
    await lz.until(() => lz.raw.length === 3, '3 messages');
    expect(lz.raw).toEqual(bodies);
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 3, '3 receipts');
    ca.send({ t: 'history', with: z, rid: 'h' });
    const h = await ca.waitFor((f) => f.rid === 'h');
    expect((h.items as Frame[]).map((m) => m.delivered)).toEqual([true, true, true]);
    await lz.close();
    const again = await legacy(z);
    await sleep(150);
    expect(again.raw).toEqual([]);
  });

  it('counts as online for presence, and shares the per-user send rate', async () => {
    const watcher = await register(s.url);
    const w = await session(s.wsUrl, watcher.token);
    const q = uid('lq');
    w.send({ t: 'presence', users: [q] });
    await w.waitFor((f) => f.t === 'presence' && f.user === q && f.online === false);
    const lq = await legacy(q);
    await w.waitFor((f) => f.t === 'presence' && f.user === q && f.online === true);
    // rate 5 => bucket of 10: 12 frames, 10 stored.
    for (let i = 0; i < 12; i++) lq.send(`${watcher.id}|burst ${i}`);
    await w.until(() => w.msgs().length >= 10, '10 msgs');
    await sleep(200);
    expect(w.msgs().map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `burst ${i}`));
    await lq.close();
    await w.waitFor(
      (f) => f.t === 'presence' && f.user === q && f.online === false && w.frames.indexOf(f) > 2,
    );
  });
});
