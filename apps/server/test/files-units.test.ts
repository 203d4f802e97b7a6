import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OffsetMismatch } from '../src/files/blob-store.js';
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

describe('FsBlobStore', () => {
  it('appends at the offset, refuses another offset without writing, and stops at the limit', async () => {
    const store = await FsBlobStore.open(tempDir());
    expect(await store.received('up1')).toBe(0);
    expect(await store.append('up1', 0, chunks('hello ', 'wor'), 11)).toEqual({ offset: 9, overflow: false });
    expect(await store.received('up1')).toBe(9);
    // A client that thinks it is elsewhere writes nothing.
    const err = await store.append('up1', 4, chunks('xx'), 11).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffsetMismatch);
    expect((err as OffsetMismatch).actual).toBe(9);
    expect(await store.received('up1')).toBe(9);
    // Exactly the limit passes.
    expect(await store.append('up1', 9, chunks('ld'), 11)).toEqual({ offset: 11, overflow: false });
    expect((await store.readPartialPrefix('up1', 100)).toString()).toBe('hello world');
    // One byte past it is an overflow, and the byte is not written.
    expect(await store.append('up1', 11, chunks('!'), 11)).toEqual({ offset: 11, overflow: true });
    expect(await store.received('up1')).toBe(11);
    await store.close();
  });

  it('a body that breaks off keeps the bytes written before', async () => {
    const store = await FsBlobStore.open(tempDir());
    async function* cut(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abc');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    await expect(store.append('up2', 0, cut(), 100)).rejects.toThrow('aborted');
    expect(await store.received('up2')).toBe(3);
    await store.close();
  });

  it('hashes the stored bytes, seals them under a fresh key, serves ranges and removes them', async () => {
    const dir = tempDir();
    const store = await FsBlobStore.open(dir);
    const data = crypto.randomBytes(300_000);
    await store.append('up3', 0, chunks(data.subarray(0, 100_000), data.subarray(100_000)), data.length);
    expect(await store.hashPartial('up3')).toBe(crypto.createHash('sha256').update(data).digest('hex'));
    const key = await store.seal('up3');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    // The partial is gone: the upload's bytes are content now.
    expect(await store.received('up3')).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'partial'))).toEqual([]);
    expect((await collect(store.read(key, 0, data.length - 1))).equals(data)).toBe(true);
    expect((await collect(store.read(key, 10, 19))).equals(data.subarray(10, 20))).toBe(true);
    // Two seals of the same bytes get two keys: the catalog keeps one, never a shared file.
    await store.append('up4', 0, chunks(data), data.length);
    const key2 = await store.seal('up4');
    expect(key2).not.toBe(key);
    await store.remove([key, key]);
    await expect(collect(store.read(key, 0, 1))).rejects.toThrow(/ENOENT/);
    expect((await collect(store.read(key2, 0, 2))).equals(data.subarray(0, 3))).toBe(true);
    await store.close();
  });

  it('sweeps partials of uploads that are gone and unreferenced content past the grace period', async () => {
    const dir = tempDir();
    const store = await FsBlobStore.open(dir);
    await store.append('alive', 0, chunks('a'), 10);
    await store.append('gone', 0, chunks('b'), 10);
    await store.append('c1', 0, chunks('c'), 10);
    const kept = await store.seal('c1');
    await store.append('c2', 0, chunks('d'), 10);
    const orphan = await store.seal('c2');
    await store.append('c3', 0, chunks('e'), 10);
    const young = await store.seal('c3');
    // Only `young` was sealed within the grace period (its catalog row may be on its way).
    const old = new Date(Date.now() - 7_200_000);
    for (const k of [kept, orphan]) fs.utimesSync(path.join(dir, 'content', k.slice(0, 2), k), old, old);
    const removed = await store.sweep({
      liveUploads: async (ids) => new Set(ids.filter((id) => id === 'alive')),
      liveKeys: async (keys) => new Set(keys.filter((k) => k === kept)),
      now: Date.now(),
      graceMs: 3_600_000,
    });
    expect(removed).toBe(2);
    expect(await store.received('alive')).toBe(1);
    expect(await store.received('gone')).toBe(0);
    expect((await collect(store.read(kept, 0, 0))).toString()).toBe('c');
    expect((await collect(store.read(young, 0, 0))).toString()).toBe('e');
    await expect(collect(store.read(orphan, 0, 0))).rejects.toThrow(/ENOENT/);
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
