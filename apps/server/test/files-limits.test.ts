import { HttpErrorCode } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import { bearer, createUpload } from './files-helpers.js';
import { FakeClock, http, register, startServer } from './helpers.js';

// PROTOCOL.md "Files: Upload", limits: each at its boundary (the largest value that
// passes, the smallest that fails), on a server configured small enough to reach it.
describe('upload quota and rate', () => {
  it('PIGEON_FILE_QUOTA: exactly the quota passes, one byte more is quota_exceeded; DELETE frees it', async () => {
    const s = await startServer({ fileQuota: 1000 });
    try {
      const a = await register(s.url);
      const first = await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 600 });
      expect(first.status).toBe(201);
      const over = await createUpload(s.url, a.token, { name: 'b', type: 'text/plain', size: 401 });
      expect([over.status, over.json]).toEqual([
        413,
        { error: 'quota_exceeded', message: expect.any(String), quota: 1000, used: 600 },
      ]);
      expect((await createUpload(s.url, a.token, { name: 'b', type: 'text/plain', size: 400 })).status).toBe(
        201,
      );
      // Another user has a quota of their own.
      const b = await register(s.url);
      expect((await createUpload(s.url, b.token, { name: 'c', type: 'text/plain', size: 1000 })).status).toBe(
        201,
      );
      const del = await http(s.url, 'DELETE', `/api/uploads/${first.json!.id}`, undefined, bearer(a.token));
      expect(del.status).toBe(204);
      expect((await createUpload(s.url, a.token, { name: 'd', type: 'text/plain', size: 600 })).status).toBe(
        201,
      );
    } finally {
      await s.stop();
    }
  });

  it('PIGEON_UPLOAD_RATE: a full bucket, then rate_limited with Retry-After; refused creations take no token', async () => {
    const clock = new FakeClock();
    const s = await startServer({ uploadRate: 2, clock: clock.now });
    try {
      const a = await register(s.url);
      // Refused before the rate: these take nothing.
      expect((await createUpload(s.url, a.token, { name: '', type: 'text/plain', size: 1 })).status).toBe(
        400,
      );
      expect(
        (await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 10 ** 12 })).status,
      ).toBe(413);
      for (let i = 0; i < 2; i++) {
        expect((await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 1 })).status).toBe(
          201,
        );
      }
      const limited = await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 1 });
      expect([limited.status, limited.json?.error]).toEqual([429, HttpErrorCode.rateLimited]);
      expect(limited.headers.get('retry-after')).toBe('30');
      // 2 a minute: the next token 30 s later, not a millisecond sooner (and a refusal
      // takes none: the one at 29.999 s leaves the token for the one at 30 s).
      clock.advance(29_999);
      const early = await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 1 });
      expect([early.status, early.headers.get('retry-after')]).toEqual([429, '1']);
      clock.advance(1);
      expect((await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 1 })).status).toBe(
        201,
      );
      expect((await createUpload(s.url, a.token, { name: 'a', type: 'text/plain', size: 1 })).status).toBe(
        429,
      );
    } finally {
      await s.stop();
    }
  });
});
