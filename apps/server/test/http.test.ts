import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressList } from '../src/http/address-list.js';
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

describe('static files through send (issue 13)', () => {
  let w: Running;
  const dir = tempDir();
  const web = path.join(dir, 'web');
  const js = `console.log(${JSON.stringify('x'.repeat(1000))})`;
  beforeAll(async () => {
    fs.mkdirSync(path.join(web, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>app</title>');
    fs.writeFileSync(path.join(web, 'assets', 'app-1.js'), js);
    fs.writeFileSync(path.join(web, 'assets', 'app-1.js.br'), zlib.brotliCompressSync(js));
    fs.writeFileSync(path.join(web, 'assets', 'app-1.js.gz'), zlib.gzipSync(js));
    w = await startServer({ webRoot: web }, dir);
  });
  afterAll(() => w.stop());

  it('answers ETag and 304 for If-None-Match, keeping the security headers', async () => {
    const first = await rawRequest(w.port, '/assets/app-1.js', {});
    const etag = /\r\netag: ([^\r]+)/i.exec(first)?.[1];
    expect(etag).toBeTruthy();
    expect(first.endsWith(js)).toBe(true);
    const again = await rawRequest(w.port, '/assets/app-1.js', { 'If-None-Match': etag! });
    expect(again).toMatch(/^HTTP\/1.1 304/);
    expect(again).toMatch(/content-security-policy: default-src 'self'/i);
    expect(again).toMatch(/x-content-type-options: nosniff/i);
  });

  it('serves byte ranges (206, suffix ranges) and 416 past the end', async () => {
    const part = await rawRequest(w.port, '/assets/app-1.js', { Range: 'bytes=0-9' });
    expect(part).toMatch(/^HTTP\/1.1 206/);
    expect(part).toMatch(/content-range: bytes 0-9\/\d+/i);
    expect(part.endsWith(js.slice(0, 10))).toBe(true);
    const tail = await rawRequest(w.port, '/assets/app-1.js', { Range: 'bytes=-5' });
    expect(tail.endsWith(js.slice(-5))).toBe(true);
    const past = await rawRequest(w.port, '/assets/app-1.js', { Range: `bytes=${js.length + 10}-` });
    expect(past).toMatch(/^HTTP\/1.1 416/);
  });

  it('serves the precompressed .br or .gz sibling when the client accepts it, with Vary', async () => {
    for (const [accept, encoding] of [
      ['br, gzip', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['identity', null],
    ] as const) {
      const text = await rawRequest(w.port, '/assets/app-1.js', { 'Accept-Encoding': accept });
      const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
      if (encoding) expect(head, accept).toContain(`content-encoding: ${encoding}`);
      else expect(head, accept).not.toContain('content-encoding');
      expect(head).toContain('vary: accept-encoding');
      expect(head).toMatch(/content-type: text\/javascript/);
    }
  });
});

/** A GET with extra headers over a raw socket (fetch would decompress and normalise). */
function rawRequest(port: number, p: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`);
    });
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', reject);
  });
}
