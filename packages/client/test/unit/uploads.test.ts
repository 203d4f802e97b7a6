import { ErrorCode, HttpErrorCode, LIMITS } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage, type UploadProgress } from '../../src/index.js';
import { bytesBlob, fakeFileServer } from '../fake-file-server.js';
import { FakeSocket } from '../fake-socket.js';
import { startedClient, tick } from '../harness.js';
import { ALL, attachments, online, setUp, until } from '../upload-harness.js';

// Attachments behind the outbox (PROTOCOL.md "Files"): a message with files is sent once every
// upload is stored; uploads go in chunks, resume from the server's offset after a failure, a
// reload or a restart, restart when the server lost them, fail with the API's typed codes.
// Refusals of the bytes' store or a rate limit: uploads-refused.test.ts; downloads: downloads.test.ts.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('a message with attachments', () => {
  it('uploads in chunks with progress, then sends once every file is stored', async () => {
    const { client, server, store } = await setUp();
    const progress: UploadProgress[] = [];
    client.on('upload', (p) => progress.push(p));
    const sock = await online();
    const item = client.send('bob', '', {
      files: [
        { blob: bytesBlob(10), name: 'a.bin', type: 'application/octet-stream' },
        { blob: bytesBlob(3), name: 'b.bin', type: 'application/octet-stream' },
      ],
    });
    expect(item).toMatchObject({ state: 'pending', files: [{ uploaded: 0 }, { uploaded: 0 }] });
    await until(() => sock.framesOf('send').length === 1, 'the send');
    expect(server.patched.map((p) => [p.offset, p.length])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
      [0, 3],
    ]);
    expect([...server.files.values()].map((f) => Array.from(f.bytes))).toEqual([
      Array.from({ length: 10 }, (_, i) => i),
      [0, 1, 2],
    ]);
    expect(sock.framesOf('send')[0]).toEqual({
      t: 'send',
      id: item.id,
      to: 'bob',
      body: '',
      files: ['up1', 'up2'],
    });
    // progress per file, never backwards, ending at its size
    const first = progress.filter((p) => p.index === 0).map((p) => p.loaded);
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(progress.filter((p) => p.index === 0).at(-1)).toEqual({
      id: item.id,
      index: 0,
      loaded: 10,
      total: 10,
    });
    // stored: the bytes are no longer kept
    sock.push({ t: 'sent', id: item.id, ts: 1_000_500 });
    await until(() => store.map.size === 0, 'the bytes released');
    expect(client.outbox()[0]).toMatchObject({
      state: 'sent',
      files: [{ file: { id: 'up1', size: 10 } }, { file: { id: 'up2' } }],
    });
  });

  it('a dropped connection mid-upload resumes from the server offset after a backoff, sending no byte twice', async () => {
    const { client, server } = await setUp({ uploadChunkBytes: 100 });
    const sock = await online();
    server.faults.cutAfter = 7; // the server keeps 7 bytes, then the connection drops
    client.send('bob', 'photo', {
      files: [{ blob: bytesBlob(20), name: 'p.bin', type: 'application/octet-stream' }],
    });
    await until(() => server.patched.length === 1, 'the first PATCH');
    expect(server.log.filter((l) => l.startsWith('HEAD'))).toEqual([]);
    // The retry waits for the backoff (random 0.5 of 500 ms), then asks where the upload stands.
    await vi.advanceTimersByTimeAsync(249);
    expect(server.patched).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => sock.framesOf('send').length === 1, 'the send');
    expect(server.log.filter((l) => !l.startsWith('GET'))).toEqual([
      'POST /api/uploads',
      'PATCH /api/uploads/up1',
      'HEAD /api/uploads/up1',
      'PATCH /api/uploads/up1',
    ]);
    expect(server.patched.map((p) => [p.offset, p.length])).toEqual([
      [0, 20],
      [7, 13],
    ]);
    expect(Array.from(server.files.get('up1')?.bytes ?? [])).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('survives a restart of the client: the stored upload id is resumed with HEAD, not restarted', async () => {
    const storage = memoryStorage();
    const server = fakeFileServer();
    const store = attachments();
    const opts = { transport: server.transport, attachments: store, uploadChunkBytes: 5 };
    const first = await startedClient({ features: ALL, ...opts }, storage);
    await online();
    server.faults.downAfterPatches = 1; // the network goes after the first chunk
    const item = first.send('bob', 'big', {
      files: [{ blob: bytesBlob(12), name: 'big.bin', type: 'application/octet-stream' }],
    });
    await until(() => server.patched.length >= 1, 'one chunk');
    first.stop();
    await first.persisted();
    const stored = JSON.parse(storage.dump()['pigeon:u:alice:outbox'] ?? '[]');
    expect(stored[0].files[0]).toMatchObject({ uploadId: 'up1', key: `alice/${item.id}/0` });

    server.faults.downAfterPatches = null;
    const second = await startedClient({ features: ALL, ...opts }, storage);
    const sock = await online();
    await until(() => sock.framesOf('send').length === 1, 'the send after the restart');
    expect(server.log.filter((l) => l.startsWith('POST'))).toHaveLength(1);
    expect(server.log).toContain('HEAD /api/uploads/up1');
    expect(sock.framesOf('send')[0]).toMatchObject({ id: item.id, files: ['up1'] });
    expect(second.outbox()[0]?.files?.[0]?.uploaded).toBe(12);
  });

  it('an upload the server lost (404) starts again; a refused file fails with the API code', async () => {
    const { client, server } = await setUp({ uploadChunkBytes: 3 });
    await online();
    server.faults.downAfterPatches = 1;
    const lost = client.send('bob', 'x', {
      files: [{ blob: bytesBlob(6), name: 'l.bin', type: 'application/octet-stream' }],
    });
    await until(() => server.patched.length === 1, 'first chunk');
    server.uploads.delete('up1'); // expired on the server while the network was down
    server.faults.downAfterPatches = null;
    await vi.advanceTimersByTimeAsync(250); // the backoff
    await until(() => server.files.size === 1, 'uploaded again');
    expect(server.log).toContain('HEAD /api/uploads/up1');
    expect(server.log.filter((l) => l.startsWith('POST'))).toHaveLength(2);
    expect(client.outbox().find((i) => i.id === lost.id)?.files?.[0]?.file?.id).toBe('up2');

    server.faults.refuseWith = HttpErrorCode.typeMismatch;
    const lying = client.send('bob', 'not a png', {
      files: [{ blob: bytesBlob(3), name: 'x.png', type: 'image/png' }],
    });
    await until(() => client.outbox().find((i) => i.id === lying.id)?.state === 'failed', 'the refusal');
    expect(client.outbox().find((i) => i.id === lying.id)).toMatchObject({
      error: HttpErrorCode.typeMismatch,
    });
  });

  it('refuses what the upload API would refuse before uploading anything, at the limits', async () => {
    const { client, server } = await setUp();
    await online();
    const file = (name: string, size: number, type = 'text/plain') => ({ blob: bytesBlob(size), name, type });
    const max = Array.from({ length: LIMITS.filesPerMessage }, (_, i) => file(`f${i}.txt`, 1));
    expect(client.send('bob', '', { files: [...max, file('one-more.txt', 1)] })).toMatchObject({
      state: 'failed',
      error: ErrorCode.badFrame,
    });
    expect(client.send('bob', '', { files: [file('empty.txt', 0)] })).toMatchObject({
      state: 'failed',
      error: HttpErrorCode.emptyFile,
    });
    expect(client.send('bob', '', { files: [file('a/b.txt', 1)] })).toMatchObject({
      state: 'failed',
      error: HttpErrorCode.invalidFile,
    });
    expect(client.send('bob', '', { files: [file('ok.txt', 1, 'not a type')] })).toMatchObject({
      state: 'failed',
      error: HttpErrorCode.invalidFile,
    });
    expect(client.send('bob', '', { files: [] })).toMatchObject({
      state: 'failed',
      error: ErrorCode.badFrame,
    });
    expect(server.log).toEqual([]);
    expect(client.send('bob', '', { files: max })).toMatchObject({ state: 'pending' });
    const v1 = await startedClient({ features: ['paging'] });
    expect(() => v1.send('bob', '', { files: [file('a.txt', 1)] })).toThrow(
      expect.objectContaining({ code: 'unsupported' }),
    );
  });

  it('discard stops the upload, removes it on the server and forgets the bytes', async () => {
    const { client, server, store } = await setUp({ uploadChunkBytes: 2 });
    await online();
    const item = client.send('bob', 'never mind', {
      files: [{ blob: bytesBlob(10), name: 'd.bin', type: 'application/octet-stream' }],
    });
    await until(() => server.patched.length >= 1, 'started');
    client.discard(item.id);
    await until(() => server.log.includes('DELETE /api/uploads/up1') && store.map.size === 0, 'cleaned up');
    expect(server.uploads.size).toBe(0);
    expect(client.outbox()).toEqual([]);
  });

  it('waits while the network is gone, and text written after a big file does not wait for it', async () => {
    const { client, server } = await setUp({ uploadChunkBytes: 1 });
    client.setNetwork(false);
    client.send('bob', 'the photo', {
      files: [{ blob: bytesBlob(3), name: 'p.bin', type: 'application/octet-stream' }],
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.log).toEqual([]);
    server.faults.downAfterPatches = 1; // a slow, flaky upload
    client.setNetwork(true);
    const sock = await online();
    const text = client.send('bob', 'and some text');
    await tick();
    expect(sock.framesOf('send')).toEqual([{ t: 'send', id: text.id, to: 'bob', body: 'and some text' }]);
    sock.push({ t: 'sent', id: text.id, ts: 1 });
    server.faults.downAfterPatches = null;
    await vi.advanceTimersByTimeAsync(250);
    await until(() => sock.framesOf('send').length === 2, 'the photo');
    expect(sock.framesOf('send')[1]).toMatchObject({ body: 'the photo', files: ['up1'] });
  });

  it('no_such_file: uploads again once, then fails; a server without files fails it unsupported', async () => {
    const { client, server } = await setUp();
    const sock = await online();
    const item = client.send('bob', '', {
      files: [{ blob: bytesBlob(2), name: 'e.bin', type: 'application/octet-stream' }],
    });
    await until(() => sock.framesOf('send').length === 1, 'sent once');
    sock.push({ t: 'error', code: ErrorCode.noSuchFile, message: 'expired', id: item.id });
    await until(() => sock.framesOf('send').length === 2, 'sent again');
    expect(sock.framesOf('send')[1]?.files).toEqual(['up2']);
    sock.push({ t: 'error', code: ErrorCode.noSuchFile, message: 'expired', id: item.id });
    await until(() => client.outbox()[0]?.state === 'failed', 'failed');
    expect(client.outbox()[0]?.error).toBe(ErrorCode.noSuchFile);
    expect(server.log.filter((l) => l.startsWith('POST'))).toHaveLength(2);

    const other = await setUp();
    const oldServer = await online(['paging', 'read']);
    const m = other.client.send('bob', 'hi', {
      files: [{ blob: bytesBlob(1), name: 'a.bin', type: 'application/octet-stream' }],
    });
    await until(() => other.client.outbox()[0]?.state === 'failed', 'unsupported');
    expect(other.client.outbox()[0]).toMatchObject({ id: m.id, error: 'unsupported' });
    expect(oldServer.framesOf('send')).toEqual([]);
  });
});
