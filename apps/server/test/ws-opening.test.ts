// Over ~300 lines on purpose: one subject, a /ws connection's opening (hello checks in the spec
// order, welcome/synced, origins, host JWTs, tokens, negotiation).
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  FakeClock,
  mid,
  type Running,
  register,
  SECRET,
  sendAndWait,
  session,
  startServer,
  uid,
} from './helpers.js';

const JWT_SECRET = 'host-app-secret-for-tests-0123456789';
let s: Running;
beforeAll(async () => {
  s = await startServer({ helloTimeoutMs: 400, jwtSecret: JWT_SECRET, origins: ['https://app.example.com'] });
});
afterAll(() => s.stop());

async function closeAfter(frames: (string | object | Buffer)[], headers: Record<string, string> = {}) {
  const c = await Client.open(`${s.wsUrl}/ws`, headers);
  for (const f of frames) {
    if (Buffer.isBuffer(f)) c.ws.send(f, { binary: true });
    else c.send(f);
  }
  return (await c.waitClose()).code;
}

function sign(claims: Record<string, unknown>, secret = JWT_SECRET, iss?: string) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  if (iss) jwt = jwt.setIssuer(iss);
  return jwt.sign(new TextEncoder().encode(secret));
}

describe('hello checks, in the spec order', () => {
  it('a first frame that is not a JSON object with t:"hello" closes 4001', async () => {
    const a = await register(s.url);
    for (const first of [
      'not json',
      '[1]',
      '"hello"',
      { t: 'ping' },
      { t: 'send', id: 'x', to: a.id, body: 'x' },
    ]) {
      expect(await closeAfter([first]), JSON.stringify(first)).toBe(4001);
    }
    expect(await closeAfter([Buffer.from('{"t":"hello"}')])).toBe(4001);
  });

  it('a since that is not a string closes 4001, before the version check', async () => {
    const a = await register(s.url);
    expect(await closeAfter([{ t: 'hello', v: 1, token: a.token, since: 5 }])).toBe(4001);
    expect(await closeAfter([{ t: 'hello', v: 2, token: a.token, since: 5 }])).toBe(4001);
  });

  it('v other than the number 1 closes 4003, even with a bad token', async () => {
    const a = await register(s.url);
    for (const v of [2, 0, '1', null, undefined]) {
      expect(await closeAfter([{ t: 'hello', v, token: a.token }]), String(v)).toBe(4003);
    }
    expect(await closeAfter([{ t: 'hello', v: 2, token: 'garbage' }])).toBe(4003);
  });

  it('a missing, invalid, tampered or expired token closes 4001', async () => {
    const a = await register(s.url);
    const i = Math.floor(a.token.length / 2);
    const tampered = a.token.slice(0, i) + (a.token[i] === 'A' ? 'B' : 'A') + a.token.slice(i + 1);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('pigeon')
      .setSubject(a.id)
      .setExpirationTime(now - 10)
      .sign(new TextEncoder().encode(SECRET));
    for (const token of [undefined, '', 42, 'garbage', tampered, expired]) {
      expect(await closeAfter([{ t: 'hello', v: 1, token }]), String(token)).toBe(4001);
    }
  });

  it('no hello within the timeout closes 4002', async () => {
    const c = await Client.open(`${s.wsUrl}/ws`);
    const t0 = Date.now();
    expect((await c.waitClose()).code).toBe(4002);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it('a later hello on an open connection is bad_frame', async () => {
    const a = await register(s.url);
    const c = await session(s.wsUrl, a.token);
    c.send({ t: 'hello', v: 1, token: a.token });
    const e = await c.waitFor((f) => f.t === 'error');
    expect(e.code).toBe('bad_frame');
    expect(c.closeInfo).toBeNull();
  });
});

describe('welcome and synced', () => {
  it('fresh mailbox: welcome {v:1, user, head:null}, synced {head:null, gap:false}', async () => {
    const a = await register(s.url, uid('Wl'));
    const c = await session(s.wsUrl, a.token);
    expect(c.welcome).toEqual({ t: 'welcome', v: 1, user: a.id, head: null });
    expect(c.synced).toEqual({ t: 'synced', head: null, gap: false });
    expect(c.backlog).toEqual([]);
  });

  it('frames sent before synced are answered after it, in order', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    for (let i = 0; i < 30; i++) await sendAndWait(ca, b.id, `m${i}`);
    const c = await Client.open(`${s.wsUrl}/ws`);
    c.send({ t: 'hello', v: 1, token: b.token });
    c.send({ t: 'ping', rid: 'p1' });
    c.send({ t: 'conversations', rid: 'c1' });
    c.send({ t: 'ping', rid: 'p2' });
    await c.waitFor((f) => f.t === 'pong' && f.rid === 'p2');
    const types = c.frames.map((f) => f.t);
    const synced = types.indexOf('synced');
    expect(types.slice(0, synced + 1)).toEqual(['welcome', ...Array(30).fill('msg'), 'synced']);
    const after = c.frames.slice(synced + 1).map((f) => `${f.t}:${f.rid ?? ''}`);
    expect(after).toEqual(['pong:p1', 'conversations:c1', 'pong:p2']);
  });
});

describe('origin rule', () => {
  const open = (headers: Record<string, string>) =>
    Client.open(`${s.wsUrl}/ws`, headers).then(
      (c) => {
        c.ws.terminate();
        return 101;
      },
      (e: Error & { statusCode?: number }) => e.statusCode ?? 0,
    );

  it('allows no Origin, the own origin (any letter case), and listed origins', async () => {
    expect(await open({})).toBe(101);
    expect(await open({ Origin: `http://127.0.0.1:${s.port}` })).toBe(101);
    expect(await open({ Origin: `HTTP://127.0.0.1:${s.port}` })).toBe(101);
    expect(await open({ Origin: 'https://app.example.com' })).toBe(101);
    expect(await open({ Origin: `http://LOCALHOST:${s.port}`, Host: `localhost:${s.port}` })).toBe(101);
    // A missing port is the scheme's default.
    expect(await open({ Origin: 'http://chat.example', Host: 'chat.example:80' })).toBe(101);
    expect(await open({ Origin: 'https://chat.example', Host: 'chat.example' })).toBe(101);
  });

  it('refuses other origins with HTTP 403', async () => {
    expect(await open({ Origin: 'http://evil.example' })).toBe(403);
    expect(await open({ Origin: `http://127.0.0.1:${s.port + 1}` })).toBe(403);
    expect(await open({ Origin: 'http://chat.example', Host: 'chat.example:8080' })).toBe(403);
    // PIGEON_ORIGINS is compared exactly.
    expect(await open({ Origin: 'https://app.example.com:444' })).toBe(403);
    expect(await open({ Origin: 'null' })).toBe(403);
  });
});

describe('host-app JWT mode', () => {
  it('a JWT signed with PIGEON_JWT_SECRET opens a session and creates its sub (lowercased)', async () => {
    const sub = uid('Host');
    const now = Math.floor(Date.now() / 1000);
    const c = await session(s.wsUrl, await sign({ sub, exp: now + 60 }));
    expect(c.welcome.user).toBe(sub.toLowerCase());
    const a = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    expect((await sendAndWait(ca, sub, 'to host user')).t).toBe('sent');
  });

  it('expired, not-yet-valid, wrongly signed, and invalid-sub JWTs close 4001', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sub = uid('h');
    for (const token of [
      await sign({ sub, exp: now - 5 }),
      await sign({ sub, nbf: now + 60 }),
      await sign({ sub }, `${JWT_SECRET}-wrong`),
      await sign({ sub: 'bad id!' }),
      await sign({ sub: '\u212Aelvin' }),
      await sign({}),
    ]) {
      expect(await closeAfter([{ t: 'hello', v: 1, token }])).toBe(4001);
    }
  });

  it('must carry exp, at most PIGEON_JWT_MAX_TTL after iat (or now): one day passes, a second more closes 4001', async () => {
    const now = Math.floor(Date.now() / 1000);
    const day = 86_400;
    const sub = uid('hx');
    expect(await closeAfter([{ t: 'hello', v: 1, token: await sign({ sub }) }])).toBe(4001);
    expect(
      await closeAfter([{ t: 'hello', v: 1, token: await sign({ sub, iat: now, exp: now + day + 1 }) }]),
    ).toBe(4001);
    const ok = await session(s.wsUrl, await sign({ sub, iat: now, exp: now + day }));
    expect(ok.welcome.user).toBe(sub);
    await ok.close();
    // Without iat the lifetime counts from now (a few seconds of slack for a slow run).
    expect(await closeAfter([{ t: 'hello', v: 1, token: await sign({ sub, exp: now + day + 120 }) }])).toBe(
      4001,
    );
    await (await session(s.wsUrl, await sign({ sub, exp: now + day - 120 }))).close();
  });

  it('without PIGEON_JWT_SECRET a host JWT is just a bad token', async () => {
    const r = await startServer({});
    try {
      const c = await Client.open(`${r.wsUrl}/ws`);
      c.send({ t: 'hello', v: 1, token: await sign({ sub: uid('h') }) });
      expect((await c.waitClose()).code).toBe(4001);
    } finally {
      await r.stop();
    }
  });
});

describe('tokens', () => {
  it('a token whose user does not exist (e.g. another database) closes 4001', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('pigeon')
      .setSubject(uid('ghost'))
      .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(await closeAfter([{ t: 'hello', v: 1, token }])).toBe(4001);
  });

  it('expire after PIGEON_TOKEN_TTL (an injected clock, not a wait)', async () => {
    // JWT times are whole seconds: start on a second so the boundary is exact.
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const r = await startServer({ tokenTtlSec: 60, clock: clock.now });
    try {
      const a = await register(r.url);
      clock.advance(59_999);
      await (await session(r.wsUrl, a.token)).close();
      clock.advance(1);
      const c = await Client.open(`${r.wsUrl}/ws`);
      c.send({ t: 'hello', v: 1, token: a.token });
      expect((await c.waitClose()).code).toBe(4001);
    } finally {
      await r.stop();
    }
  });
});

describe('frames', () => {
  it('binary frame after hello closes 1003; over 64 KiB closes 1009', async () => {
    const a = await register(s.url);
    const c1 = await session(s.wsUrl, a.token);
    c1.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c1.waitClose()).code).toBe(1003);
    const c2 = await session(s.wsUrl, a.token);
    const base = JSON.stringify({ t: 'ping', rid: 'r', pad: '' });
    c2.send(JSON.stringify({ t: 'ping', rid: 'r', pad: 'p'.repeat(65_536 - base.length) }));
    await c2.waitFor((f) => f.t === 'pong' && f.rid === 'r');
    c2.send(JSON.stringify({ t: 'ping', pad: 'p'.repeat(65_536) }));
    expect((await c2.waitClose()).code).toBe(1009);
    // Also before hello.
    const c3 = await Client.open(`${s.wsUrl}/ws`);
    c3.send('x'.repeat(65_537));
    expect((await c3.waitClose()).code).toBe(1009);
  });

  it('ping answers pong with the rid; unknown fields are ignored', async () => {
    const a = await register(s.url);
    const c = await session(s.wsUrl, a.token);
    c.send({ t: 'ping', rid: 'x'.repeat(64), extra: { a: 1 } });
    expect(await c.waitFor((f) => f.t === 'pong')).toEqual({ t: 'pong', rid: 'x'.repeat(64) });
    c.send({ t: 'ping', rid: 'y'.repeat(65) });
    expect((await c.waitFor((f) => f.t === 'error')).code).toBe('bad_frame');
  });

  it('100 bad frames within 10 s are answered; the 101st closes 4008', async () => {
    const a = await register(s.url);
    const c = await session(s.wsUrl, a.token);
    for (let i = 0; i < 100; i++) c.send('nope');
    c.send({ t: 'ping', rid: 'alive' });
    await c.waitFor((f) => f.t === 'pong' && f.rid === 'alive');
    expect(c.frames.filter((f) => f.t === 'error' && f.code === 'bad_frame')).toHaveLength(100);
    expect(c.closeInfo).toBeNull();
    c.send('nope');
    expect((await c.waitClose()).code).toBe(4008);
  });

  it('error frames echo a well-formed send id', async () => {
    const a = await register(s.url);
    const c = await session(s.wsUrl, a.token);
    const id = mid();
    c.send({ t: 'send', id, to: a.id });
    const e = await c.waitFor((f) => f.t === 'error');
    expect(e).toMatchObject({ code: 'bad_frame', id });
    c.send({ t: 'send', id: 'bad id!', to: a.id, body: 'x' });
    const e2 = await c.waitFor((f) => f.t === 'error' && f !== e);
    expect(e2.code).toBe('bad_frame');
    expect(e2.id).toBeUndefined();
  });
});

describe('feature negotiation', () => {
  it('welcome.features is present exactly when the hello had a features array, holding only what is offered', async () => {
    const a = await register(s.url);
    const open = async (extra: Record<string, unknown>) => {
      const c = await Client.open(`${s.wsUrl}/ws`);
      c.send({ t: 'hello', v: 1, token: a.token, ...extra });
      const w = await c.waitFor((f) => f.t === 'welcome');
      await c.close();
      return w;
    };
    expect(await open({})).not.toHaveProperty('features');
    expect(await open({ features: 'paging' })).not.toHaveProperty('features');
    expect((await open({ features: ['bogus', 42] })).features).toEqual([]);
    // Known names in the spec's order, once each.
    expect((await open({ features: ['read', 'files', 'paging', 'paging'] })).features).toEqual([
      'paging',
      'read',
      'files',
    ]);
  });
});
