import { CloseCode } from '@pigeon/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressList } from '../src/http/address-list.js';
import {
  Client,
  type Frame,
  http,
  type Running,
  register,
  sendAndWait,
  session,
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
    // Fence: a later frame's message arrives after anything the earlier ones produced.
    ly.send(`${y}|fence`);
    await ly.until(() => ly.raw.includes('fence'), 'fence');
    expect(ly.raw).toEqual(['note to self', 'fence']);
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
    // Fence: a live message comes after whatever backlog the connect replayed.
    await sendAndWait(ca, z, 'fence');
    await again.until(() => again.raw.includes('fence'), 'fence');
    expect(again.raw).toEqual(['fence']);
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
    // Fence: the watcher's own send commits after the batches holding the burst, so its
    // echo comes after any burst message that was stored.
    const f = await sendAndWait(w, q, 'fence');
    await w.waitFor((m) => m.t === 'msg' && m.id === f.id);
    expect(w.msgs().map((m) => m.body)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `burst ${i}`),
      'fence',
    ]);
    await lq.close();
    await w.waitFor(
      (f) => f.t === 'presence' && f.user === q && f.online === false && w.frames.indexOf(f) > 2,
    );
  });
});

describe('legacy hardening (issue 9, finding 5)', () => {
  it('refuses an account with a password (403), so it cannot be impersonated', async () => {
    const victim = await register(s.url);
    const code = await legacy(victim.id).then(
      () => 0,
      (e: Error & { statusCode?: number }) => e.statusCode,
    );
    expect(code).toBe(403);
    // Nothing was read or acknowledged on its behalf: its backlog is intact.
    const alice = await register(s.url);
    const ca = await session(s.wsUrl, alice.token);
    await sendAndWait(ca, victim.id, 'for the real victim');
    const cv = await session(s.wsUrl, victim.token);
    expect(cv.backlog.map((m) => m.body)).toEqual(['for the real victim']);
  });

  it('is open only to PIGEON_LEGACY_ALLOW (default loopback): another list refuses 127.0.0.1 with 403', async () => {
    const r = await startServer({ legacy: true, legacyAllow: new AddressList('10.0.0.0/8') });
    try {
      const code = await Client.open(`${r.wsUrl}/legacy?user=${uid('la')}`).then(
        () => 0,
        (e: Error & { statusCode?: number }) => e.statusCode,
      );
      expect(code).toBe(403);
    } finally {
      await r.stop();
    }
  });

  it('in host-JWT mode: a host account cannot use /legacy, and a legacy account cannot open /ws with a host JWT', async () => {
    const jwtSecret = 'host-secret-for-legacy-tests-0123456789';
    const r = await startServer({ legacy: true, jwtSecret });
    try {
      const sign = (sub: string) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(sub)
          .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
          .sign(new TextEncoder().encode(jwtSecret));
      const host = uid('hj');
      const ch = await session(r.wsUrl, await sign(host));
      await ch.close();
      const code = await Client.open(`${r.wsUrl}/legacy?user=${host}`).then(
        () => 0,
        (e: Error & { statusCode?: number }) => e.statusCode,
      );
      expect(code).toBe(403);
      const old = uid('lj');
      const lo = await Client.open(`${r.wsUrl}/legacy?user=${old}`);
      await lo.close();
      const c = await Client.open(`${r.wsUrl}/ws`);
      c.send({ t: 'hello', v: 1, token: await sign(old) });
      expect((await c.waitClose()).code).toBe(4001);
    } finally {
      await r.stop();
    }
  });

  it('a legacy account cannot log in over HTTP, and its id cannot be registered', async () => {
    const id = uid('lh');
    await (await legacy(id)).close();
    const login = await http(s.url, 'POST', '/api/login', { user: id, password: 'legacy' });
    expect(login.status).toBe(401);
    const reg = await http(s.url, 'POST', '/api/register', { user: id, password: 'password123' });
    expect(reg.status).toBe(409);
  });

  it('counts against the connection cap of its user like /ws (4029 past it)', async () => {
    const r = await startServer({ legacy: true, maxConnsPerUser: 1 });
    try {
      const id = uid('lc');
      const first = await Client.open(`${r.wsUrl}/legacy?user=${id}`);
      const second = await Client.open(`${r.wsUrl}/legacy?user=${id}`);
      expect((await second.waitClose()).code).toBe(CloseCode.tooMany);
      expect(first.closeInfo).toBeNull();
    } finally {
      await r.stop();
    }
  });
});
