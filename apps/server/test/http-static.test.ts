// The web app's static files over HTTP: the page without a build, a build's files and their
// caching headers, paths that must not escape the root, compression and ranges (issue 13).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type Running, startServer, tempDir } from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.stop());

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
