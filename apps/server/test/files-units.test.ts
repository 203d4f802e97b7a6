import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../src/files/fs-blob-store.js';
import { UploadLocks } from '../src/files/upload-locks.js';
import { ifRangeAllows, noneMatch, rangeFor } from '../src/http/byte-range.js';
import { tempDir } from './helpers.js';

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

// The cases every blob store shares are in files-blob-store.test.ts; these are the local
// directory's own.
describe('FsBlobStore', () => {
  it('seals by moving the partial into content/ under a hex key: no partial file stays', async () => {
    const dir = tempDir();
    const store = await FsBlobStore.open(dir);
    await store.append('up3', 0, chunks('abc'), 3);
    expect(fs.readdirSync(path.join(dir, 'partial'))).toEqual(['up3']);
    const key = await store.seal('up3');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.readdirSync(path.join(dir, 'partial'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'content', key.slice(0, 2), key)).toString()).toBe('abc');
    await store.close();
  });

  it('refuses names that are not upload ids or keys (no path ever comes from a request)', async () => {
    const store = await FsBlobStore.open(tempDir());
    await expect(store.received('../x')).rejects.toThrow(/not an upload id/);
    await expect(store.append('a/b', 0, chunks('x'), 1)).rejects.toThrow(/not an upload id/);
    await expect(collect(store.read('..', 0, 0))).rejects.toThrow(/not a content key/);
    await store.close();
  });
});

describe('UploadLocks', () => {
  it('runs one holder per key; a newcomer stops the holder and runs after it', async () => {
    const locks = new UploadLocks();
    const order: string[] = [];
    let firstStopped = false;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = locks.run('k', async (signal) => {
      order.push('first start');
      started();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      firstStopped = true;
      order.push('first end');
    });
    expect(locks.busy('k')).toBe(true);
    await firstStarted;
    const other = locks.run('other', async () => order.push('other'));
    await other;
    const second = locks.run('k', async (signal) => {
      order.push(`second start, aborted=${signal.aborted}`);
    });
    await Promise.all([first, second]);
    expect(firstStopped).toBe(true);
    expect(order).toEqual(['first start', 'other', 'first end', 'second start, aborted=false']);
    expect(locks.busy('k')).toBe(false);
  });

  it('a failing holder does not block the next one', async () => {
    const locks = new UploadLocks();
    await expect(locks.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.run('k', async () => 7)).resolves.toBe(7);
  });
});

describe('byte ranges', () => {
  it('serves one range, clamps its end, and answers 416 only past the end', () => {
    expect(rangeFor(undefined, 100)).toEqual({ kind: 'full' });
    expect(rangeFor('bytes=0-0', 100)).toEqual({ kind: 'partial', start: 0, end: 0 });
    expect(rangeFor('bytes=10-19', 100)).toEqual({ kind: 'partial', start: 10, end: 19 });
    expect(rangeFor('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(rangeFor('bytes=90-500', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(rangeFor('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(rangeFor('bytes=-500', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
    // The last byte is the largest start that is satisfiable; one past it is not.
    expect(rangeFor('bytes=99-', 100)).toEqual({ kind: 'partial', start: 99, end: 99 });
    expect(rangeFor('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(rangeFor('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('answers several ranges and malformed ones with the whole file', () => {
    for (const h of ['bytes=0-1,5-6', 'bytes=5-1', 'items=0-1', 'bytes=-', 'bytes=a-b', 'bytes 0-1']) {
      expect(rangeFor(h, 100)).toEqual({ kind: 'full' });
    }
  });

  it('honours If-Range only with the exact ETag, and If-None-Match weakly', () => {
    const etag = '"abc"';
    expect(ifRangeAllows(undefined, etag)).toBe(true);
    expect(ifRangeAllows('"abc"', etag)).toBe(true);
    expect(ifRangeAllows('W/"abc"', etag)).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false);
    expect(noneMatch(undefined, etag)).toBe(false);
    expect(noneMatch('"x", W/"abc"', etag)).toBe(true);
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"abcd"', etag)).toBe(false);
  });
});
