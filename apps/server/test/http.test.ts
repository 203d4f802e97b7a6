import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type Running, register, startServer, tempDir, uid } from './helpers.js';

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
      ['😀'.repeat(3) + 'a', false], // 7 code units
      ['😀'.repeat(128), true], // 256 units
      ['😀'.repeat(128) + 'a', false], // 257 units
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

describe('static web app', () => {
  it('without a build, serves a plain page saying to build, on every path', async () => {
    const root = await http(s.url, 'GET', '/');
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
    expect(root.text).toContain('npm run build');
    const deep = await http(s.url, 'GET', '/some/where');
    expect(deep.text).toBe(root.text);
  });

  describe('with a build', () => {
    let w: Running;
    const dir = tempDir();
    const web = path.join(dir, 'web');
    const secretFile = path.join(dir, 'secret.txt');
    beforeAll(async () => {
      fs.mkdirSync(path.join(web, 'assets'), { recursive: true });
      fs.writeFileSync(
        path.join(web, 'index.html'),
        '<!doctype html><title>app</title><script type="module" src="/assets/app-abc123.js"></script>',
      );
      fs.writeFileSync(path.join(web, 'assets', 'app-abc123.js'), 'console.log(1)');
      fs.writeFileSync(path.join(web, 'favicon.svg'), '<svg/>');
      fs.writeFileSync(path.join(web, '.env'), 'HIDDEN=1');
      fs.writeFileSync(secretFile, 'TOP SECRET');
      w = await startServer({ webRoot: web }, dir);
    });
    afterAll(() => w.stop());

    it('serves index.html at / and for unknown paths (single-page fallback) with CSP and nosniff', async () => {
      const root = await http(w.url, 'GET', '/');
      expect(root.status).toBe(200);
      expect(root.text).toContain('<title>app</title>');
      const csp = root.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(root.headers.get('x-content-type-options')).toBe('nosniff');
      expect(root.headers.get('cache-control')).toBe('no-cache');
      const deep = await http(w.url, 'GET', '/chat/bob');
      expect(deep.status).toBe(200);
      expect(deep.text).toBe(root.text);
      expect((await http(w.url, 'GET', '/.env')).text).toBe(root.text);
    });

    it('serves hashed assets with a long immutable cache and the right type; missing assets are 404', async () => {
      const js = await http(w.url, 'GET', '/assets/app-abc123.js');
      expect(js.status).toBe(200);
      expect(js.text).toBe('console.log(1)');
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(js.headers.get('cache-control')).toContain('immutable');
      expect(js.headers.get('x-content-type-options')).toBe('nosniff');
      const svg = await http(w.url, 'GET', '/favicon.svg');
      expect(svg.headers.get('content-type')).toBe('image/svg+xml');
      expect((await http(w.url, 'GET', '/assets/missing-123.js')).status).toBe(404);
    });

    it('never serves a file outside the web root (raw, encoded and backslash traversal)', async () => {
      const attempts = [
        '/../secret.txt',
        '/assets/../../secret.txt',
        '/%2e%2e/secret.txt',
        '/%2E%2E%2Fsecret.txt',
        '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
        '/..%5csecret.txt',
        '/%252e%252e/secret.txt',
        '/assets/..%2f..%2fsecret.txt',
        '/%00/../secret.txt',
      ];
      for (const p of attempts) {
        const text = await rawGet(w.port, p);
        expect(text, p).not.toContain('TOP SECRET');
        const status = Number(text.split(' ')[1]);
        expect([200, 400, 404], p).toContain(status);
      }
    });
  });
});

/** A GET with the path exactly as given (fetch would normalise dot segments). */
function rawGet(port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
    });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}
