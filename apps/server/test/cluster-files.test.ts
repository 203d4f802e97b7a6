import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSession, sendMsg } from './chat-helpers.js';
import { Cluster, clusterAvailable } from './engines/cluster.js';
import { bearer, createUpload, download, head, patch, SAMPLES, sha256 } from './files-helpers.js';
import { http } from './helpers.js';

/**
 * Files on three nodes sharing PostgreSQL (bytes as large objects) and Redis (the upload
 * bucket): an upload started on one node continues and completes on others, and what one
 * node stored every node serves.
 */
const ready = clusterAvailable('the cross-node file tests');

describe.skipIf(!ready)('files in a cluster of three nodes', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ env: { PIGEON_UPLOAD_RATE: '4' } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function account(node: number): Promise<{ id: string; token: string }> {
    const id = `f${crypto.randomBytes(5).toString('hex')}`;
    const r = await http(cluster.url(node), 'POST', '/api/register', { user: id, password: 'password123' });
    expect(r.status).toBe(201);
    return { id, token: String(r.json!.token) };
  }

  it('an upload started on node A, resumed on B and completed on C downloads whole from every node', async () => {
    const alice = await account(0);
    const data = crypto.randomBytes(2_500_000);
    const created = await createUpload(cluster.url(0), alice.token, {
      name: 'trip.bin',
      type: 'application/octet-stream',
      size: data.length,
      sha256: sha256(data),
    });
    expect(created.status).toBe(201);
    const id = String(created.json!.id);
    expect((await patch(cluster.url(0), alice.token, id, 0, data.subarray(0, 1_000_000))).status).toBe(204);
    const offset = Number((await head(cluster.url(1), alice.token, id)).headers.get('upload-offset'));
    expect(offset).toBe(1_000_000);
    // A stale offset on another node is refused there too: the partial is shared.
    const stale = await patch(cluster.url(2), alice.token, id, 0, data.subarray(0, 10));
    expect([stale.status, stale.headers.get('upload-offset')]).toEqual([409, '1000000']);
    expect(
      (await patch(cluster.url(1), alice.token, id, offset, data.subarray(offset, 2_000_000))).status,
    ).toBe(204);
    const done = await patch(cluster.url(2), alice.token, id, 2_000_000, data.subarray(2_000_000));
    expect(done.status).toBe(200);
    expect(done.json?.sha256).toBe(sha256(data));
    for (const node of [0, 1, 2]) {
      const got = await download(cluster.url(node), alice.token, id);
      expect(got.status).toBe(200);
      expect(sha256(got.body)).toBe(sha256(data));
      const part = await download(cluster.url(node), alice.token, id, { range: 'bytes=1999990-2000009' });
      expect([part.status, part.body.equals(data.subarray(1_999_990, 2_000_010))]).toEqual([206, true]);
    }
  });

  it('stores content once across nodes, and the upload bucket is shared by all nodes', async () => {
    const bob = await account(1);
    const png = SAMPLES.png(10, 10, 20_000);
    const ids: string[] = [];
    for (const node of [0, 1, 2]) {
      const created = await createUpload(cluster.url(node), bob.token, {
        name: 'p.png',
        type: 'image/png',
        size: png.length,
      });
      expect(created.status).toBe(201);
      const id = String(created.json!.id);
      expect((await patch(cluster.url(node), bob.token, id, 0, png)).status).toBe(200);
      ids.push(id);
    }
    // PIGEON_UPLOAD_RATE 4 a minute, one bucket for all nodes: the fourth passes, the fifth not.
    expect(
      (await createUpload(cluster.url(0), bob.token, { name: 'x', type: 'text/plain', size: 1 })).status,
    ).toBe(201);
    const limited = await createUpload(cluster.url(2), bob.token, { name: 'x', type: 'text/plain', size: 1 });
    expect([limited.status, limited.json?.error]).toEqual([429, 'rate_limited']);
    // Node A stored it; B and C found it stored.
    const metrics = await http(cluster.url(2), 'GET', '/metrics');
    expect(metrics.text).toMatch(/pigeon_uploads_total\{outcome="deduplicated"\} [1-9]/);
    // A node's view of stored bytes is the shared store's: the same on every node.
    const stored = async (node: number) =>
      /pigeon_file_bytes_stored (\d+)/.exec((await http(cluster.url(node), 'GET', '/metrics')).text)?.[1];
    expect(await stored(1)).toBe(await stored(2));
    const del = await http(cluster.url(2), 'DELETE', `/api/uploads/${ids[0]}`, undefined, bearer(bob.token));
    expect(del.status).toBe(204);
    expect((await download(cluster.url(0), bob.token, ids[0]!)).status).toBe(404);
    expect(sha256((await download(cluster.url(0), bob.token, ids[1]!)).body)).toBe(sha256(png));
  });

  it('a file sent on node A reaches its recipient on node B, who downloads it from node C; a third user cannot', async () => {
    const alice = await account(0);
    const bob = await account(1);
    const carol = await account(2);
    const pdf = SAMPLES.pdf(100_000);
    const created = await createUpload(cluster.url(0), alice.token, {
      name: 'plan.pdf',
      type: 'application/pdf',
      size: pdf.length,
    });
    const id = String(created.json!.id);
    expect((await patch(cluster.url(0), alice.token, id, 0, pdf)).status).toBe(200);
    const a = await chatSession(cluster.wsUrl(0), alice.token, ['files']);
    const b = await chatSession(cluster.wsUrl(1), bob.token, ['files']);
    const echo = await sendMsg(a, bob.id, 'the plan', { files: [id] });
    const got = await b.waitFor((f) => f.t === 'msg' && f.id === echo.id, 'msg on node B');
    expect(got.files).toEqual([{ id, name: 'plan.pdf', type: 'application/pdf', size: pdf.length }]);
    const d = await download(cluster.url(2), bob.token, id);
    expect([d.status, d.body.equals(pdf)]).toEqual([200, true]);
    expect((await download(cluster.url(1), carol.token, id)).status).toBe(404);
    await a.close();
    await b.close();
  });
});
