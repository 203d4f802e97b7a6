import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreFor } from './engines/test-engine.js';
import {
  Client,
  fence,
  http,
  type Running,
  register,
  sendAndWait,
  session,
  startServer,
  tempDir,
  uid,
} from './helpers.js';

const JWT_SECRET = 'host-secret-for-session-tests-0123456789';
let s: Running;
beforeAll(async () => {
  s = await startServer({ jwtSecret: JWT_SECRET });
});
afterAll(() => s.stop());

const post = (path: string, token: string | null, body: unknown = {}, base = s.url) =>
  http(base, 'POST', path, body, token === null ? {} : { authorization: `Bearer ${token}` });

async function login(id: string, password: string, base = s.url): Promise<string> {
  const r = await http(base, 'POST', '/api/login', { user: id, password });
  expect(r.status).toBe(200);
  return String(r.json!.token);
}

/** Resolves with the close code of a hello with `token` (or 0 once it is welcomed). */
async function helloCode(token: string, wsUrl = s.wsUrl): Promise<number> {
  const c = await Client.open(`${wsUrl}/ws`);
  c.send({ t: 'hello', v: 1, token });
  await c.until(() => c.closeInfo !== null || c.frames.some((f) => f.t === 'welcome'), 'welcome or close');
  if (c.closeInfo) return c.closeInfo.code;
  await c.close();
  return 0;
}

describe('POST /api/logout', () => {
  it('revokes this token only: its connections close 4001, another device stays signed in', async () => {
    const a = await register(s.url);
    const other = await login(a.id, a.password);
    const mine = await session(s.wsUrl, a.token);
    const theirs = await session(s.wsUrl, other);
    const r = await post('/api/logout', a.token);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect((await mine.waitClose()).code).toBe(4001);
    await fence(theirs);
    expect(theirs.closeInfo).toBeNull();
    expect(await helloCode(a.token)).toBe(4001);
    expect(await helloCode(other)).toBe(0);
    // A revoked token cannot sign out again.
    expect((await post('/api/logout', a.token)).json?.error).toBe('unauthorized');
  });
});

describe('POST /api/logout-all', () => {
  it('revokes every token of the user: every connection closes 4001; a new login works', async () => {
    const a = await register(s.url);
    const t2 = await login(a.id, a.password);
    const c1 = await session(s.wsUrl, a.token);
    const c2 = await session(s.wsUrl, t2);
    const b = await register(s.url);
    const cb = await session(s.wsUrl, b.token);
    expect((await post('/api/logout-all', t2)).status).toBe(204);
    expect((await c1.waitClose()).code).toBe(4001);
    expect((await c2.waitClose()).code).toBe(4001);
    expect(await helloCode(a.token)).toBe(4001);
    expect(await helloCode(t2)).toBe(4001);
    await fence(cb);
    expect(cb.closeInfo).toBeNull();
    const fresh = await login(a.id, a.password);
    const c3 = await session(s.wsUrl, fresh);
    expect((await sendAndWait(c3, b.id, 'still here')).t).toBe('sent');
  });
});

describe('POST /api/password', () => {
  it('changes the password, answers a fresh token, closes the other devices and keeps this one', async () => {
    const a = await register(s.url);
    const other = await login(a.id, a.password);
    const mine = await session(s.wsUrl, a.token);
    const theirs = await session(s.wsUrl, other);
    const r = await post('/api/password', a.token, { password: a.password, newPassword: 'new-password-1' });
    expect(r.status).toBe(200);
    expect(r.json?.user).toBe(a.id);
    const fresh = String(r.json?.token);
    expect((await theirs.waitClose()).code).toBe(4001);
    await fence(mine);
    expect(mine.closeInfo).toBeNull();
    // The calling token is revoked for new connections; the fresh one works.
    expect(await helloCode(a.token)).toBe(4001);
    expect(await helloCode(other)).toBe(4001);
    expect(await helloCode(fresh)).toBe(0);
    // The kept connection survives a re-check too.
    expect(await s.server.recheckSessions()).toBe(0);
    await fence(mine);
    expect(mine.closeInfo).toBeNull();
    expect((await http(s.url, 'POST', '/api/login', { user: a.id, password: a.password })).status).toBe(401);
    expect((await http(s.url, 'POST', '/api/login', { user: a.id, password: 'new-password-1' })).status).toBe(
      200,
    );
  });

  it('a wrong current password is 403 bad_credentials; a weak new one 400 weak_password (7 fail, 8 pass)', async () => {
    const a = await register(s.url);
    const wrong = await post('/api/password', a.token, {
      password: 'not-it-at-all',
      newPassword: 'good-password',
    });
    expect(wrong.status).toBe(403);
    expect(wrong.json?.error).toBe('bad_credentials');
    const missing = await post('/api/password', a.token, { newPassword: 'good-password' });
    expect(missing.status).toBe(403);
    for (const newPassword of ['x'.repeat(7), 'x'.repeat(257), 'abcdefg\ud800', 42]) {
      const weak = await post('/api/password', a.token, { password: a.password, newPassword });
      expect(weak.status, String(newPassword)).toBe(400);
      expect(weak.json?.error).toBe('weak_password');
    }
    const ok = await post('/api/password', a.token, { password: a.password, newPassword: 'x'.repeat(8) });
    expect(ok.status).toBe(200);
  });

  it('shares the PIGEON_AUTH_RATE bucket with login: past it 429', async () => {
    const r = await startServer({ authRate: 3 });
    try {
      const a = await register(r.url);
      for (let i = 0; i < 2; i++) {
        const res = await post(
          '/api/password',
          a.token,
          { password: 'wrong-wrong', newPassword: 'whatever-1' },
          r.url,
        );
        expect(res.status).toBe(403);
      }
      const limited = await post(
        '/api/password',
        a.token,
        { password: a.password, newPassword: 'whatever-1' },
        r.url,
      );
      expect(limited.status).toBe(429);
      expect(limited.json?.error).toBe('rate_limited');
    } finally {
      await r.stop();
    }
  });
});

describe('session endpoints refuse what is not a live session token (401 unauthorized)', () => {
  it('no bearer, garbage, a host JWT; and the spec order 415 → 401 → 413', async () => {
    const host = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(uid('hj'))
      .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
      .sign(new TextEncoder().encode(JWT_SECRET));
    for (const path of ['/api/logout', '/api/logout-all', '/api/password']) {
      for (const token of [null, 'garbage', host]) {
        const r = await post(path, token, { password: 'x', newPassword: 'y' });
        expect(r.status, `${path} ${token}`).toBe(401);
        expect(r.json?.error).toBe('unauthorized');
      }
    }
    const plain = await fetch(`${s.url}/api/logout`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    const big = await post('/api/logout', null, { pad: 'x'.repeat(20_000) });
    expect(big.status).toBe(401);
    const a = await register(s.url);
    const bigAuthed = await post('/api/logout', a.token, { pad: 'x'.repeat(20_000) });
    expect(bigAuthed.status).toBe(413);
  });
});

describe('revocation is durable and reaches other nodes', () => {
  it('a revoked token stays revoked after a restart; an unrevoked one stays valid', async () => {
    const dir = tempDir();
    const first = await startServer({}, dir);
    const a = await register(first.url);
    const keep = await login(a.id, a.password, first.url);
    expect((await post('/api/logout', a.token, {}, first.url)).status).toBe(204);
    await first.stop();
    const second = await startServer({}, dir);
    try {
      expect(await helloCode(a.token, second.wsUrl)).toBe(4001);
      expect(await helloCode(keep, second.wsUrl)).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('a revocation made elsewhere (another node on the same store) closes the connection at the next re-check', async () => {
    const dir = tempDir();
    const r = await startServer({}, dir);
    // The same SQLite file, or on `npm run test:pg` the same PostgreSQL database.
    const elsewhere = await openStoreFor(r.dbPath);
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      expect(await r.server.recheckSessions()).toBe(0);
      await elsewhere.revokeAllTokens(a.id);
      expect(await r.server.recheckSessions()).toBe(1);
      expect((await ca.waitClose()).code).toBe(4001);
      await fence(cb);
      expect(cb.closeInfo).toBeNull();
    } finally {
      await elsewhere.close();
      await r.stop();
    }
  });
});
