import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startChild } from './child.js';
import { createUpload, download, head, patch, rawPatch, sha256 } from './files-helpers.js';
import { register, tempDir } from './helpers.js';

describe('kill -9 during uploads', () => {
  it('loses nothing acknowledged: every 200 downloads whole, every 204 offset is kept', async () => {
    const dir = tempDir();
    const env = {
      PIGEON_DB: path.join(dir, 'pigeon.db'),
      PIGEON_SECRET: 'kill-test-secret-0123456789abcdef0123456789',
    };
    const child = await startChild(env);
    const a = await register(child.url);
    // An upload with a first part acknowledged (204), and the rest in flight at the kill.
    const big = crypto.randomBytes(4_000_000);
    const bigId = String(
      (
        await createUpload(child.url, a.token, {
          name: 'big.bin',
          type: 'application/octet-stream',
          size: big.length,
        })
      ).json!.id,
    );
    const part = await patch(child.url, a.token, bigId, 0, big.subarray(0, 1_500_000));
    expect(part.status).toBe(204);
    const inFlight = rawPatch(
      child.port,
      a.token,
      bigId,
      1_500_000,
      big.length - 1_500_000,
      big.subarray(1_500_000, 3_000_000),
    );
    // Small uploads one after another; the server is killed right after the fifth 200.
    const acked: { id: string; data: Buffer }[] = [];
    const killed = (async () => {
      for (let i = 0; ; i++) {
        const data = crypto.randomBytes(10_000 + i);
        const created = await createUpload(child.url, a.token, {
          name: `f${i}.bin`,
          type: 'application/octet-stream',
          size: data.length,
        });
        if (created.status !== 201) throw new Error(created.text);
        const done = await patch(child.url, a.token, String(created.json!.id), 0, data);
        if (done.status !== 200) throw new Error(done.text);
        acked.push({ id: String(created.json!.id), data });
        if (acked.length === 5) {
          child.proc.kill('SIGKILL');
          return;
        }
      }
    })();
    await killed;
    await child.exited;
    inFlight.socket.destroy();

    const again = await startChild(env);
    try {
      for (const { id, data } of acked) {
        const got = await download(again.url, a.token, id);
        expect(got.status).toBe(200);
        expect(sha256(got.body)).toBe(sha256(data));
      }
      // The acknowledged part is there; whatever of the rest arrived may be too.
      const offset = Number((await head(again.url, a.token, bigId)).headers.get('upload-offset'));
      expect(offset).toBeGreaterThanOrEqual(1_500_000);
      expect(offset).toBeLessThanOrEqual(3_000_000);
      const rest = await patch(again.url, a.token, bigId, offset, big.subarray(offset));
      expect(rest.status).toBe(200);
      expect(rest.json?.sha256).toBe(sha256(big));
      expect(sha256((await download(again.url, a.token, bigId)).body)).toBe(sha256(big));
    } finally {
      again.proc.kill('SIGTERM');
      await again.exited;
    }
  });
});
