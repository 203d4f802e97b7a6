import { HttpErrorCode } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bytesBlob } from '../fake-file-server.js';
import { FakeSocket } from '../fake-socket.js';
import { online, setUp, until } from '../upload-harness.js';

// `client.download` against the fake file API: the bytes collected, a broken transfer resumed
// with Range (+ If-Range), a download from the end, a file that is not there.

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('downloads', () => {
  it('collects the bytes, resumes with Range after a break, and says where they start', async () => {
    const { client, server } = await setUp();
    await online();
    client.send('bob', '', { files: [{ blob: bytesBlob(9), name: 'résumé.pdf', type: 'application/pdf' }] });
    await until(() => server.files.size === 1, 'uploaded');
    const whole = await client.download('up1');
    expect(whole).toMatchObject({ size: 9, from: 0, name: 'résumé.pdf', type: 'application/pdf' });
    expect(Array.from(Buffer.concat(whole.chunks))).toEqual(Array.from({ length: 9 }, (_, i) => i));

    server.faults.breakGetAfter = 5;
    const got: number[] = [];
    await expect(client.download('up1', { onChunk: (c) => void got.push(...c) })).rejects.toMatchObject({
      code: 'unreachable',
    });
    const rest = await client.download('up1', { offset: got.length, etag: whole.etag ?? undefined });
    expect(rest.from).toBe(got.length);
    expect([...got, ...Buffer.concat(rest.chunks)]).toEqual(Array.from({ length: 9 }, (_, i) => i));
    await expect(client.download('up1', { offset: 9 })).resolves.toMatchObject({
      size: 9,
      from: 9,
      chunks: [],
    });
    // The boundary: from the end is an empty answer, one byte past it is refused.
    await expect(client.download('up1', { offset: 10 })).rejects.toMatchObject({
      status: 416,
      code: HttpErrorCode.rangeNotSatisfiable,
    });
    await expect(client.download('nope')).rejects.toMatchObject({
      status: 404,
      code: HttpErrorCode.notFound,
    });
  });
});
