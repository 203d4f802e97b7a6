import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobCounts, createUpload, download, head, patch, rawPatch, sha256 } from './files-helpers.js';
import { FakeClock, http, register, startServer } from './helpers.js';

// Uploads that do not go as planned: cut connections, silent clients, and uploads never
// finished (PROTOCOL.md "Files: Upload", resumable).
describe('interrupted uploads', () => {
  it('a connection cut mid-upload keeps what arrived; the client resumes from HEAD and the file is whole', async () => {
    const s = await startServer();
    try {
      const a = await register(s.url);
      const data = crypto.randomBytes(3_000_000);
      const created = await createUpload(s.url, a.token, {
        name: 'v.bin',
        type: 'application/octet-stream',
        size: data.length,
        sha256: sha256(data),
      });
      const id = String(created.json!.id);
      const cut = rawPatch(s.port, a.token, id, 0, data.length, data.subarray(0, 1_000_000));
      await cut.wrote;
      cut.socket.destroy();
      // The client's algorithm: ask where it stands, send the rest, and on 409 ask again.
      let answer: Awaited<ReturnType<typeof patch>> | null = null;
      for (let tries = 0; tries < 5 && answer?.status !== 200; tries++) {
        const offset = Number((await head(s.url, a.token, id)).headers.get('upload-offset'));
        expect(offset).toBeLessThanOrEqual(1_000_000);
        answer = await patch(s.url, a.token, id, offset, data.subarray(offset));
      }
      expect(answer?.status).toBe(200);
      expect(answer?.json?.sha256).toBe(sha256(data));
      expect(sha256((await download(s.url, a.token, id)).body)).toBe(sha256(data));
    } finally {
      await s.stop();
    }
  });

  it('a new PATCH for the same upload takes over from one whose client went silent', async () => {
    const s = await startServer();
    try {
      const a = await register(s.url);
      const data = crypto.randomBytes(3_000_000);
      const created = await createUpload(s.url, a.token, {
        name: 'w.bin',
        type: 'application/octet-stream',
        size: data.length,
      });
      const id = String(created.json!.id);
      // A first part, then silence: the server holds this request, reading. Once HEAD shows
      // bytes of it stored (an engine may keep up to a 1 MiB slice in hand), the request
      // holds the upload: a fence, no timing.
      const stale = rawPatch(s.port, a.token, id, 0, data.length, data.subarray(0, 1_500_000));
      await stale.wrote;
      while (Number((await head(s.url, a.token, id)).headers.get('upload-offset')) < 1_000_000);
      // The client's algorithm: ask where it stands, send the rest, and on 409 ask again.
      let fresh: Awaited<ReturnType<typeof patch>> | null = null;
      for (let tries = 0; tries < 5 && fresh?.status !== 200; tries++) {
        const offset = Number((await head(s.url, a.token, id)).headers.get('upload-offset'));
        fresh = await patch(s.url, a.token, id, offset, data.subarray(offset));
      }
      expect(fresh?.status).toBe(200);
      expect(fresh?.json?.sha256).toBe(sha256(data));
      // The stale request was dropped without an answer.
      expect(await stale.response).toBe('');
    } finally {
      await s.stop();
    }
  });

  it('a PATCH whose bytes stop arriving is cut after the idle timeout with 408 and where it stands', async () => {
    const s = await startServer({ apiTimeoutSec: 1 });
    try {
      const a = await register(s.url);
      const created = await createUpload(s.url, a.token, {
        name: 'i.bin',
        type: 'application/octet-stream',
        size: 100,
      });
      const id = String(created.json!.id);
      const slow = rawPatch(s.port, a.token, id, 0, 100, Buffer.alloc(40, 7));
      const response = await slow.response;
      expect(response).toMatch(/^HTTP\/1.1 408/);
      expect(response).toMatch(/upload-offset: 40/i);
      expect(response).toContain('"error":"timeout"');
      expect((await head(s.url, a.token, id)).headers.get('upload-offset')).toBe('40');
    } finally {
      await s.stop();
    }
  });

  it('an upload cut off and never finished is removed at expiry: nothing counted, no partial left', async () => {
    const clock = new FakeClock();
    const s = await startServer({ clock: clock.now, fileQuota: 5_000_000 });
    try {
      const a = await register(s.url);
      const created = await createUpload(s.url, a.token, {
        name: 'gone.bin',
        type: 'application/octet-stream',
        size: 5_000_000,
      });
      const id = String(created.json!.id);
      expect(created.json!.expiresAt).toBe(clock.now() + 86_400_000);
      const cut = rawPatch(s.port, a.token, id, 0, 5_000_000, crypto.randomBytes(2_000_000));
      await cut.wrote;
      // Cut once the server has stored some of it (HEAD is the fence: no timing).
      while (Number((await head(s.url, a.token, id)).headers.get('upload-offset')) === 0);
      cut.socket.destroy();
      // While it lives, it counts against the quota.
      expect((await createUpload(s.url, a.token, { name: 'x', type: 'text/plain', size: 1 })).status).toBe(
        413,
      );
      expect(await blobCounts(s.server.config)).toEqual({ partials: 1, contents: 0 });
      // One ms before its expiry the sweep keeps it; at its expiry it goes.
      clock.advance(86_400_000 - 1);
      await s.server.sweepRetention();
      expect((await head(s.url, a.token, id)).status).toBe(200);
      clock.advance(1);
      await s.server.sweepRetention();
      expect((await head(s.url, a.token, id)).status).toBe(404);
      expect(
        (await createUpload(s.url, a.token, { name: 'x', type: 'text/plain', size: 5_000_000 })).status,
      ).toBe(201);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 0 });
      const metrics = await http(s.url, 'GET', '/metrics');
      expect(metrics.text).toMatch(/pigeon_uploads_total\{outcome="expired"\} 1/);
    } finally {
      await s.stop();
    }
  });
});
