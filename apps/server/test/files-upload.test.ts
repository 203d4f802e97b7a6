import crypto from 'node:crypto';
import { HttpErrorCode, LIMITS } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  blobCounts,
  createUpload,
  download,
  head,
  patch,
  SAMPLES,
  sha256,
  uploadFile,
} from './files-helpers.js';
import { http, type Running, register, startServer } from './helpers.js';

describe('uploads (PROTOCOL.md "Files: Upload")', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());

  it('creates an upload, takes its bytes in pieces, and completes it with its FileInfo', async () => {
    const a = await register(s.url);
    const png = SAMPLES.png(800, 600, 5000);
    const created = await createUpload(s.url, a.token, {
      name: 'holiday.png',
      type: 'Image/PNG; charset=binary',
      size: png.length,
      sha256: sha256(png),
    });
    expect(created.status).toBe(201);
    const id = String(created.json!.id);
    expect(created.json).toEqual({ id, offset: 0, expiresAt: expect.any(Number) });
    expect(created.headers.get('location')).toBe(`/api/uploads/${id}`);
    let h = await head(s.url, a.token, id);
    expect([h.status, h.headers.get('upload-offset'), h.headers.get('upload-length')]).toEqual([
      200,
      '0',
      String(png.length),
    ]);
    expect(h.headers.get('cache-control')).toBe('no-store');
    const first = await patch(s.url, a.token, id, 0, png.subarray(0, 1000));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe('1000');
    h = await head(s.url, a.token, id);
    expect(h.headers.get('upload-offset')).toBe('1000');
    const done = await patch(s.url, a.token, id, 1000, png.subarray(1000));
    expect(done.status).toBe(200);
    expect(done.json).toEqual({
      file: { id, name: 'holiday.png', type: 'image/png', size: png.length, width: 800, height: 600 },
      sha256: sha256(png),
    });
    h = await head(s.url, a.token, id);
    expect(h.headers.get('upload-offset')).toBe(String(png.length));
    // A client that lost the 200 asks again at the end with no bytes: the same answer.
    const again = await patch(s.url, a.token, id, png.length, Buffer.alloc(0));
    expect([again.status, again.json]).toEqual([200, done.json]);
    // Bytes for a complete upload are refused, with where it stands.
    const more = await patch(s.url, a.token, id, 0, Buffer.from('x'));
    expect([more.status, more.json?.error, more.headers.get('upload-offset')]).toEqual([
      409,
      HttpErrorCode.offsetMismatch,
      String(png.length),
    ]);
    // Each PATCH is timed by how it ended, and its bytes counted.
    const metrics = (await http(s.url, 'GET', '/metrics')).text;
    for (const result of ['partial', 'complete']) {
      expect(metrics).toMatch(
        new RegExp(`pigeon_upload_duration_seconds_count\\{result="${result}"\\} [1-9]`),
      );
    }
    expect(Number(/pigeon_upload_bytes_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(png.length);
  });

  it('refuses a PATCH at the wrong offset without writing, and says where the upload is', async () => {
    const a = await register(s.url);
    const created = await createUpload(s.url, a.token, {
      name: 'a.bin',
      type: 'application/octet-stream',
      size: 10,
    });
    const id = String(created.json!.id);
    expect((await patch(s.url, a.token, id, 0, Buffer.from('abcd'))).status).toBe(204);
    for (const offset of [0, 3, 5, 100]) {
      const r = await patch(s.url, a.token, id, offset, Buffer.from('zz'));
      expect([r.status, r.json?.error, r.headers.get('upload-offset')]).toEqual([
        409,
        HttpErrorCode.offsetMismatch,
        '4',
      ]);
    }
    expect((await head(s.url, a.token, id)).headers.get('upload-offset')).toBe('4');
  });

  it('checks in the spec order: 404, 405, 415, 401, then the request', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const created = await createUpload(s.url, a.token, { name: 'a.txt', type: 'text/plain', size: 3 });
    const id = String(created.json!.id);
    const cases: [Promise<{ status: number; json?: Record<string, unknown> | null }>, number, string][] = [
      [http(s.url, 'PATCH', '/api/uploads/bad%2Fid', undefined, bearer(a.token)), 404, 'not_found'],
      [http(s.url, 'PATCH', '/api/uploads/a/b', undefined, bearer(a.token)), 404, 'not_found'],
      [http(s.url, 'GET', `/api/uploads/${id}`, undefined, bearer(a.token)), 405, 'method_not_allowed'],
      [http(s.url, 'PUT', '/api/uploads', undefined, bearer(a.token)), 405, 'method_not_allowed'],
      [http(s.url, 'POST', `/api/files/${id}`, undefined, bearer(a.token)), 405, 'method_not_allowed'],
      [
        http(s.url, 'POST', '/api/uploads', 'x', { ...bearer(a.token), 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      ],
      [
        patch(s.url, a.token, id, 0, Buffer.from('abc'), { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      ],
      [http(s.url, 'POST', '/api/uploads', { name: 'a', type: 'text/plain', size: 1 }), 401, 'unauthorized'],
      [patch(s.url, 'nope', id, 0, Buffer.from('abc')), 401, 'unauthorized'],
      [http(s.url, 'GET', `/api/files/${id}`), 401, 'unauthorized'],
      [patch(s.url, a.token, id, 0, Buffer.from('abc'), { 'upload-offset': '-1' }), 400, 'bad_request'],
      [patch(s.url, a.token, id, 0, Buffer.from('abc'), { 'upload-offset': '1e3' }), 400, 'bad_request'],
      // Another user's upload does not exist for them.
      [patch(s.url, b.token, id, 0, Buffer.from('abc')), 404, 'not_found'],
      [http(s.url, 'DELETE', `/api/uploads/${id}`, undefined, bearer(b.token)), 404, 'not_found'],
      [http(s.url, 'GET', `/api/files/${id}`, undefined, bearer(b.token)), 404, 'not_found'],
      [http(s.url, 'GET', '/api/files/nosuchfile', undefined, bearer(a.token)), 404, 'not_found'],
    ];
    for (const [req, status, code] of cases) {
      const r = await req;
      expect([r.status, r.json?.error]).toEqual([status, code]);
    }
    expect((await head(s.url, b.token, id)).status).toBe(404);
    const allow = await http(s.url, 'GET', `/api/uploads/${id}`, undefined, bearer(a.token));
    expect(allow.headers.get('allow')).toBe('PATCH, HEAD, DELETE');
  });

  it('checks the body: invalid_file, then empty_file, then PIGEON_FILE_MAX', async () => {
    const a = await register(s.url);
    const bad: [Record<string, unknown>, string][] = [
      [{ name: '', type: 'text/plain', size: 1 }, 'invalid_file'],
      [{ name: '../x', type: 'text/plain', size: 1 }, 'invalid_file'],
      [{ name: 'a\u202etxt.exe', type: 'text/plain', size: 1 }, 'invalid_file'],
      [{ name: 'a', type: 'not a type', size: 1 }, 'invalid_file'],
      [{ name: 'a', type: 'text/plain', size: -1 }, 'invalid_file'],
      [{ name: 'a', type: 'text/plain', size: 1.5 }, 'invalid_file'],
      [{ name: 'a', type: 'text/plain', size: 1, sha256: 'ABC' }, 'invalid_file'],
      [{ name: 'a', type: 'text/plain', size: 1, thumb: 'data:image/svg+xml;base64,AAAA' }, 'invalid_file'],
      // invalid_file comes before empty_file.
      [{ name: '', type: 'text/plain', size: 0 }, 'invalid_file'],
      [{ name: 'a', type: 'text/plain', size: 0 }, 'empty_file'],
    ];
    for (const [body, code] of bad) {
      const r = await createUpload(s.url, a.token, body as never);
      expect([r.status, r.json?.error], JSON.stringify(body)).toEqual([400, code]);
    }
    const max = LIMITS.fileMaxBytesDefault;
    const over = await createUpload(s.url, a.token, { name: 'big', type: 'video/mp4', size: max + 1 });
    expect([over.status, over.json]).toEqual([
      413,
      { error: 'file_too_large', message: expect.any(String), max },
    ]);
    const at = await createUpload(s.url, a.token, { name: 'big', type: 'video/mp4', size: max });
    expect(at.status).toBe(201);
  });

  it('keeps a thumb of exactly LIMITS.thumbMaxLength characters for the FileInfo; one more is invalid_file', async () => {
    const a = await register(s.url);
    const prefix = 'data:image/jpeg;base64,';
    const thumb = prefix + 'A'.repeat(LIMITS.thumbMaxLength - prefix.length);
    const png = SAMPLES.png(4, 3);
    const created = await createUpload(s.url, a.token, {
      name: 't.png',
      type: 'image/png',
      size: png.length,
      thumb,
    });
    expect(created.status).toBe(201);
    const done = await patch(s.url, a.token, String(created.json!.id), 0, png);
    expect(done.json?.file).toMatchObject({ thumb });
    const over = await createUpload(s.url, a.token, {
      name: 't.png',
      type: 'image/png',
      size: 9,
      thumb: `${thumb}A`,
    });
    expect([over.status, over.json?.error]).toEqual([400, HttpErrorCode.invalidFile]);
  });

  it('streams a file of exactly PIGEON_FILE_MAX bytes; one byte past the declared size is too_large and removes the upload', async () => {
    const a = await register(s.url);
    const max = LIMITS.fileMaxBytesDefault;
    const data = crypto.randomBytes(max);
    const id = await uploadFile(s.url, a.token, 'max.bin', 'application/octet-stream', data);
    const got = await download(s.url, a.token, id);
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(max);
    expect(sha256(got.body)).toBe(sha256(data));
    // Declared 10, sent 11: the 11th byte is refused and the upload is gone.
    const created = await createUpload(s.url, a.token, {
      name: 'x.bin',
      type: 'application/octet-stream',
      size: 10,
    });
    const over = await patch(s.url, a.token, String(created.json!.id), 0, Buffer.alloc(11, 1));
    expect([over.status, over.json?.error]).toEqual([413, HttpErrorCode.tooLarge]);
    expect((await head(s.url, a.token, String(created.json!.id))).status).toBe(404);
  });

  it('checks magic bytes: a PNG that is HTML is type_mismatch; an HTML named .png sent as bytes is served as an attachment', async () => {
    const a = await register(s.url);
    const lie = await createUpload(s.url, a.token, {
      name: 'cat.png',
      type: 'image/png',
      size: SAMPLES.html.length,
    });
    const r = await patch(s.url, a.token, String(lie.json!.id), 0, SAMPLES.html);
    expect([r.status, r.json?.error]).toEqual([422, HttpErrorCode.typeMismatch]);
    expect((await head(s.url, a.token, String(lie.json!.id))).status).toBe(404);
    const pdfLie = await createUpload(s.url, a.token, { name: 'a.pdf', type: 'application/pdf', size: 10 });
    const r2 = await patch(s.url, a.token, String(pdfLie.json!.id), 0, Buffer.from('PK\u0003\u0004zipzip'));
    expect([r2.status, r2.json?.error]).toEqual([422, HttpErrorCode.typeMismatch]);
    // Declared as opaque bytes, the same HTML is accepted and can only ever be downloaded.
    const id = await uploadFile(s.url, a.token, 'cat.png', 'application/octet-stream', SAMPLES.html);
    const got = await download(s.url, a.token, id);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toBe(
      `attachment; filename="cat.png"; filename*=UTF-8''cat.png`,
    );
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    // SVG and HTML declared as such are never inline either.
    for (const [name, type, bytes] of [
      ['x.svg', 'image/svg+xml', SAMPLES.svg],
      ['x.html', 'text/html', SAMPLES.html],
    ] as const) {
      const fid = await uploadFile(s.url, a.token, name, type, bytes);
      const d = await download(s.url, a.token, fid);
      expect(d.headers.get('content-type')).toBe('application/octet-stream');
      expect(d.headers.get('content-disposition')?.startsWith('attachment;')).toBe(true);
    }
  });

  it('refuses images over the pixel limits and contents whose sha256 is not the declared one', async () => {
    const a = await register(s.url);
    // The largest side that passes, and one pixel more.
    const side = LIMITS.imageMaxSide;
    const ok = await uploadFile(s.url, a.token, 'tall.png', 'image/png', SAMPLES.png(1, side));
    expect(ok).toBeTruthy();
    const huge = SAMPLES.png(side + 1, 1);
    const c = await createUpload(s.url, a.token, { name: 'wide.png', type: 'image/png', size: huge.length });
    const r = await patch(s.url, a.token, String(c.json!.id), 0, huge);
    expect([r.status, r.json?.error]).toEqual([422, HttpErrorCode.imageTooLarge]);
    // Exactly LIMITS.imageMaxPixels passes; one row more does not.
    expect(LIMITS.imageMaxPixels).toBe(10_000 * 5_000);
    await uploadFile(s.url, a.token, 'most.png', 'image/png', SAMPLES.png(10_000, 5_000));
    const pixels = SAMPLES.png(10_000, 5_001);
    const c2 = await createUpload(s.url, a.token, {
      name: 'many.png',
      type: 'image/png',
      size: pixels.length,
    });
    const r2 = await patch(s.url, a.token, String(c2.json!.id), 0, pixels);
    expect([r2.status, r2.json?.error]).toEqual([422, HttpErrorCode.imageTooLarge]);
    const data = Buffer.from('hello world');
    const c3 = await createUpload(s.url, a.token, {
      name: 'h.txt',
      type: 'text/plain',
      size: data.length,
      sha256: sha256(Buffer.from('something else')),
    });
    const r3 = await patch(s.url, a.token, String(c3.json!.id), 0, data);
    expect([r3.status, r3.json?.error]).toEqual([422, HttpErrorCode.checksumMismatch]);
    expect((await head(s.url, a.token, String(c3.json!.id))).status).toBe(404);
  });

  it('stores the same content once, however many uploads name it', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const data = crypto.randomBytes(50_000);
    const before = (await blobCounts(s.server.config)).contents;
    const id1 = await uploadFile(s.url, a.token, 'one.bin', 'application/octet-stream', data);
    const id2 = await uploadFile(s.url, b.token, 'two.bin', 'application/octet-stream', data);
    const id3 = await uploadFile(s.url, a.token, 'three.bin', 'application/octet-stream', data);
    expect(new Set([id1, id2, id3]).size).toBe(3);
    expect((await blobCounts(s.server.config)).contents).toBe(before + 1);
    const metrics = await http(s.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/pigeon_uploads_total\{outcome="deduplicated"\} [1-9]/);
    // Each keeps its own name; deleting one leaves the content to the others.
    expect((await http(s.url, 'DELETE', `/api/uploads/${id1}`, undefined, bearer(a.token))).status).toBe(204);
    const d2 = await download(s.url, b.token, id2);
    expect(d2.headers.get('content-disposition')).toContain('filename="two.bin"');
    expect(sha256(d2.body)).toBe(sha256(data));
    expect((await download(s.url, a.token, id1)).status).toBe(404);
  });
});
