import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, SAMPLES, sha256, uploadFile } from './files-helpers.js';
import { http, type Running, register, startServer, uid } from './helpers.js';

describe('downloads (PROTOCOL.md "Files: Download")', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());

  it('serves an inline image with the safe headers, and its name safely encoded', async () => {
    const a = await register(s.url);
    const png = SAMPLES.png(3, 2, 3000);
    const id = await uploadFile(s.url, a.token, 'Été "quoted" 😀 100%.png', 'image/png', png);
    const r = await download(s.url, a.token, id);
    expect(r.status).toBe(200);
    expect(r.body.equals(png)).toBe(true);
    expect(Object.fromEntries(r.headers)).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      'content-disposition': `inline; filename="_t_ _quoted_ __ 100_.png"; filename*=UTF-8''%C3%89t%C3%A9%20%22quoted%22%20%F0%9F%98%80%20100%25.png`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'same-origin',
      etag: `"${sha256(png)}"`,
      'accept-ranges': 'bytes',
      'cache-control': 'private, max-age=31536000, immutable',
    });
  });

  it('serves a PDF (and anything not an inline image) as an attachment of opaque bytes', async () => {
    const a = await register(s.url);
    const pdf = SAMPLES.pdf();
    const id = await uploadFile(s.url, a.token, 'report.pdf', 'application/pdf', pdf);
    const r = await download(s.url, a.token, id);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.headers.get('content-disposition')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(r.body.equals(pdf)).toBe(true);
  });

  it('answers one Range with 206, several with the whole file, and one past the end with 416', async () => {
    const a = await register(s.url);
    const data = crypto.randomBytes(3_000_000);
    const id = await uploadFile(s.url, a.token, 'data.bin', 'application/octet-stream', data);
    const size = data.length;
    const cases: [string, number, number, number][] = [
      ['bytes=0-0', 206, 0, 0],
      ['bytes=1000-2999999', 206, 1000, size - 1],
      ['bytes=2000000-', 206, 2_000_000, size - 1],
      ['bytes=-100', 206, size - 100, size - 1],
      ['bytes=2999999-5000000', 206, size - 1, size - 1],
    ];
    for (const [range, status, start, end] of cases) {
      const r = await download(s.url, a.token, id, { range });
      expect([range, r.status]).toEqual([range, status]);
      expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(r.headers.get('content-length')).toBe(String(end - start + 1));
      expect(r.body.equals(data.subarray(start, end + 1))).toBe(true);
    }
    const several = await download(s.url, a.token, id, { range: 'bytes=0-1,10-11' });
    expect(several.status).toBe(200);
    expect(several.body.length).toBe(size);
    const past = await download(s.url, a.token, id, { range: `bytes=${size}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    expect(JSON.parse(past.body.toString()).error).toBe('range_not_satisfiable');
    // If-Range: the range only with this exact ETag; otherwise the whole (changed) file.
    const etag = `"${sha256(data)}"`;
    const same = await download(s.url, a.token, id, { range: 'bytes=5-9', 'if-range': etag });
    expect([same.status, same.body.equals(data.subarray(5, 10))]).toEqual([206, true]);
    const other = await download(s.url, a.token, id, { range: 'bytes=5-9', 'if-range': '"other"' });
    expect([other.status, other.body.length]).toEqual([200, size]);
  });

  it('answers If-None-Match with 304 and HEAD with the headers only', async () => {
    const a = await register(s.url);
    const data = crypto.randomBytes(1000);
    const id = await uploadFile(s.url, a.token, 'd.bin', 'application/octet-stream', data);
    const etag = `"${sha256(data)}"`;
    const cached = await download(s.url, a.token, id, { 'if-none-match': etag });
    expect([cached.status, cached.body.length, cached.headers.get('etag')]).toEqual([304, 0, etag]);
    const fresh = await download(s.url, a.token, id, { 'if-none-match': '"x"' });
    expect(fresh.status).toBe(200);
    const h = await download(s.url, a.token, id, {}, 'HEAD');
    expect([h.status, h.body.length, h.headers.get('content-length')]).toEqual([200, 0, '1000']);
  });

  it('refuses anyone else with the same 404 as a file that does not exist; no token is 401', async () => {
    const a = await register(s.url);
    const c = await register(s.url);
    const id = await uploadFile(s.url, a.token, 'secret.pdf', 'application/pdf', SAMPLES.pdf());
    const theirs = await download(s.url, c.token, id);
    const none = await download(s.url, c.token, 'doesNotExist0123');
    expect([theirs.status, none.status]).toEqual([404, 404]);
    expect(theirs.body.toString()).toBe(none.body.toString());
    expect(JSON.parse(theirs.body.toString()).error).toBe('not_found');
    expect((await download(s.url, null, id)).status).toBe(401);
    const metrics = await http(s.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/pigeon_downloads_total\{status="404"\} [1-9]/);
    expect(metrics.text).toMatch(/pigeon_file_bytes_stored [1-9]/);
  });
});

describe("a host application's users (PIGEON_JWT_SECRET)", () => {
  it("upload and download with the host's JWT like with a session token", async () => {
    const jwtSecret = 'host-secret-for-files-tests-0123456789';
    const hostJwt = (user: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user)
        .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
        .sign(new TextEncoder().encode(jwtSecret));
    const r = await startServer({ jwtSecret });
    try {
      const token = await hostJwt(uid('hj'));
      const pdf = SAMPLES.pdf(700);
      const id = await uploadFile(r.url, token, 'host.pdf', 'application/pdf', pdf);
      const got = await download(r.url, token, id);
      expect([got.status, got.body.equals(pdf)]).toEqual([200, true]);
      // Another user of the host is someone else.
      expect((await download(r.url, await hostJwt(uid('hj')), id)).status).toBe(404);
    } finally {
      await r.stop();
    }
  });
});
