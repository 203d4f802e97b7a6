import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressList } from '../src/http/address-list.js';
import { http, type Running, register, startServer, uid } from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.stop());

describe('register', () => {
  it('answers 201 {user, token} and lowercases the id', async () => {
    const id = uid('Reg');
    const r = await http(s.url, 'POST', '/api/register', { user: id, password: 'password1' });
    expect(r.status).toBe(201);
    expect(r.json?.user).toBe(id.toLowerCase());
    expect(typeof r.json?.token).toBe('string');
  });

  it('accepts a 32-char id and refuses a 33-char one with invalid_user', async () => {
    const base = uid('l').padEnd(32, 'x');
    expect(base).toHaveLength(32);
    expect((await http(s.url, 'POST', '/api/register', { user: base, password: 'password1' })).status).toBe(
      201,
    );
    const r = await http(s.url, 'POST', '/api/register', { user: `${base}y`, password: 'password1' });
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe('invalid_user');
  });

  it.each([
    ['empty', ''],
    ['space', 'a b'],
    ['bang', 'ab!'],
    ['umlaut', 'aü'],
    ['Kelvin sign U+212A', '\u212Aelvin'],
    ['not a string', 42],
    ['missing', undefined],
  ])('refuses an invalid id (%s) with 400 invalid_user', async (_name, user) => {
    const r = await http(s.url, 'POST', '/api/register', { user, password: 'password1' });
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe('invalid_user');
    expect(typeof r.json?.message).toBe('string');
  });

  it('password: 8 and 256 chars pass, 7 and 257 are weak_password (UTF-16 units)', async () => {
    for (const [password, ok] of [
      ['x'.repeat(7), false],
      ['x'.repeat(8), true],
      ['x'.repeat(256), true],
      ['x'.repeat(257), false],
      ['😀'.repeat(4), true], // 8 code units
      [`${'😀'.repeat(3)}a`, false], // 7 code units
      ['😀'.repeat(128), true], // 256 units
      [`${'😀'.repeat(128)}a`, false], // 257 units
    ] as const) {
      const r = await http(s.url, 'POST', '/api/register', { user: uid('pw'), password });
      if (ok) expect(r.status, `${password.length}`).toBe(201);
      else {
        expect(r.status, `${password.length}`).toBe(400);
        expect(r.json?.error).toBe('weak_password');
      }
    }
  });

  it('a taken id is 409 user_taken in any letter case', async () => {
    const a = await register(s.url);
    for (const user of [a.id, a.id.toUpperCase()]) {
      const r = await http(s.url, 'POST', '/api/register', { user, password: 'password2' });
      expect(r.status).toBe(409);
      expect(r.json?.error).toBe('user_taken');
    }
  });

  it('a body that is not a JSON object is 400', async () => {
    expect((await http(s.url, 'POST', '/api/register', 'not json')).status).toBe(400);
    expect((await http(s.url, 'POST', '/api/register', '[1]')).status).toBe(400);
  });
});

describe('login', () => {
  it('answers 200 {user, token} in any letter case', async () => {
    const a = await register(s.url, uid('Lg'));
    const r = await http(s.url, 'POST', '/api/login', { user: a.id.toUpperCase(), password: a.password });
    expect(r.status).toBe(200);
    expect(r.json?.user).toBe(a.id);
    expect(typeof r.json?.token).toBe('string');
  });

  it('wrong password, unknown user and invalid id are the same 401 bad_credentials', async () => {
    const a = await register(s.url);
    const wrong = await http(s.url, 'POST', '/api/login', { user: a.id, password: `${a.password}x` });
    const unknown = await http(s.url, 'POST', '/api/login', { user: uid('nobody'), password: a.password });
    const invalid = await http(s.url, 'POST', '/api/login', { user: 'bad id!', password: a.password });
    for (const r of [wrong, unknown, invalid]) {
      expect(r.status).toBe(401);
      expect(r.json?.error).toBe('bad_credentials');
    }
    expect(wrong.text).toBe(unknown.text);
  });
});

describe('auth rate limit', () => {
  it('allows PIGEON_AUTH_RATE requests a minute per address, then 429 with Retry-After', async () => {
    const r = await startServer({ authRate: 5 });
    try {
      // Every request counts, failed ones too.
      for (let i = 0; i < 5; i++) {
        const res = await http(r.url, 'POST', '/api/login', { user: 'nobody', password: 'whatever1' });
        expect(res.status).toBe(401);
      }
      const limited = await http(r.url, 'POST', '/api/register', { user: uid(), password: 'password1' });
      expect(limited.status).toBe(429);
      expect(limited.json?.error).toBe('rate_limited');
      const retry = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retry)).toBe(true);
      // 5 a minute: one token every 12 s.
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(12);
    } finally {
      await r.stop();
    }
  });

  it('believes X-Forwarded-For only with PIGEON_TRUST_PROXY', async () => {
    for (const trustProxy of [false, true]) {
      const r = await startServer({ authRate: 1, trustProxy });
      try {
        const a = await http(
          r.url,
          'POST',
          '/api/login',
          { user: 'x', password: 'y' },
          { 'x-forwarded-for': '10.0.0.1' },
        );
        expect(a.status).toBe(401);
        const b = await http(
          r.url,
          'POST',
          '/api/login',
          { user: 'x', password: 'y' },
          { 'x-forwarded-for': '10.0.0.2' },
        );
        expect(b.status).toBe(trustProxy ? 401 : 429);
      } finally {
        await r.stop();
      }
    }
  });
});

describe('healthz, metrics, api 404', () => {
  it('GET /healthz is 200 {ok:true}', async () => {
    const r = await http(s.url, 'GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
  });

  it('GET /metrics is Prometheus text with the pigeon metrics', async () => {
    const r = await http(s.url, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const name of [
      'pigeon_connections_open',
      'pigeon_frames_in_total',
      'pigeon_frames_out_total',
      'pigeon_messages_stored_total',
      'pigeon_store_commit_seconds',
      'pigeon_errors_total',
      'pigeon_backlog_replay_entries',
    ]) {
      expect(r.text).toContain(`# TYPE ${name}`);
    }
  });

  it('unknown /api/ paths are 404 not_found JSON; wrong methods 405', async () => {
    for (const p of ['/api/nope', '/api/', '/api/register/x']) {
      const r = await http(s.url, 'GET', p);
      expect(r.status, p).toBe(404);
      expect(r.json?.error).toBe('not_found');
    }
    const m = await http(s.url, 'GET', '/api/register');
    expect(m.status).toBe(405);
  });
});

describe('API input (issue 9, finding 9)', () => {
  it('requires application/json: text/plain, a form, or no type is 415 unsupported_media_type', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
    ]) {
      const res = await fetch(`${s.url}/api/register`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: JSON.stringify({ user: uid('ct'), password: 'password1' }),
      });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { error: string }).error).toBe('unsupported_media_type');
    }
    // With parameters and in any case it is accepted.
    const ok = await http(
      s.url,
      'POST',
      '/api/register',
      { user: uid('ct'), password: 'password1' },
      { 'content-type': 'Application/JSON; charset=utf-8' },
    );
    expect(ok.status).toBe(201);
  });

  it('a body that does not arrive within PIGEON_API_TIMEOUT is 408 timeout, and the socket is closed', async () => {
    const r = await startServer({ apiTimeoutSec: 1 });
    try {
      const sock = net.connect(r.port, '127.0.0.1');
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      const ended = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      sock.write(
        'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user":',
      );
      await ended;
      expect(data).toMatch(/^HTTP\/1.1 408/);
      expect(data).toContain('"error":"timeout"');
    } finally {
      await r.stop();
    }
  });

  it('headers that do not arrive within PIGEON_API_TIMEOUT close the socket (408)', async () => {
    const r = await startServer({ apiTimeoutSec: 1 });
    try {
      const sock = net.connect(r.port, '127.0.0.1');
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      const ended = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      sock.write('POST /api/login HTTP/1.1\r\nHost: x\r\n');
      await ended;
      expect(data).toMatch(/^HTTP\/1.1 408/);
    } finally {
      await r.stop();
    }
  });

  it('bodies over 16 KiB are 413; JSON that is not an object is 400 bad_request', async () => {
    const big = await http(s.url, 'POST', '/api/login', { user: 'x', password: 'p'.repeat(17_000) });
    expect(big.status).toBe(413);
    expect(big.json?.error).toBe('too_large');
    const arr = await http(s.url, 'POST', '/api/login', '[1]');
    expect(arr.json?.error).toBe('bad_request');
  });
});

describe('/metrics access (issue 9, finding 9)', () => {
  it('is refused (403 forbidden) outside PIGEON_METRICS_ALLOW, and opened from anywhere by the bearer token', async () => {
    const token = 'metrics-token-0123456789abcdef0123';
    const r = await startServer({ metricsAllow: new AddressList('10.0.0.0/8'), metricsToken: token });
    try {
      const denied = await http(r.url, 'GET', '/metrics');
      expect(denied.status).toBe(403);
      expect(denied.json?.error).toBe('forbidden');
      const wrong = await http(r.url, 'GET', '/metrics', undefined, { authorization: `Bearer ${token}x` });
      expect(wrong.status).toBe(403);
      const ok = await http(r.url, 'GET', '/metrics', undefined, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE pigeon_limit_hits_total counter');
    } finally {
      await r.stop();
    }
  });

  it('trusts X-Forwarded-For for the address only with PIGEON_TRUST_PROXY', async () => {
    for (const trustProxy of [false, true]) {
      const r = await startServer({ metricsAllow: new AddressList('127.0.0.1'), trustProxy });
      try {
        const res = await http(r.url, 'GET', '/metrics', undefined, { 'x-forwarded-for': '203.0.113.9' });
        expect(res.status).toBe(trustProxy ? 403 : 200);
      } finally {
        await r.stop();
      }
    }
  });
});
