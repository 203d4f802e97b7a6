import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BlobStore, OffsetMismatch } from '../src/files/blob-store.js';
import { FsBlobStore } from '../src/files/fs-blob-store.js';
import { PgBlobStore } from '../src/files/pg-blob-store.js';
import { PgStore } from '../src/store/pg-store.js';
import { databaseFor, onPostgres } from './engines/test-engine.js';
import { tempDir } from './helpers.js';

/*
 * The blob store's contract (files/blob-store.ts), the same cases on each engine: the local
 * directory always, PostgreSQL large objects when the suite runs on PostgreSQL
 * (`npm run test:pg`, which CI runs). What only one engine has (paths, file names) is
 * tested in files-units.test.ts.
 */

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

interface Opened {
  store: BlobStore;
  close(): Promise<void>;
}

function describeBlobStore(name: string, open: () => Promise<Opened>): void {
  describe(`${name} (BlobStore contract)`, () => {
    it('appends at the offset, refuses another offset without writing, and stops at the limit', async () => {
      const { store, close } = await open();
      try {
        expect(await store.received('up1')).toBe(0);
        expect(await store.append('up1', 0, chunks('hello ', 'wor'), 11)).toEqual({
          offset: 9,
          overflow: false,
        });
        expect(await store.received('up1')).toBe(9);
        // A client that thinks it is elsewhere writes nothing.
        const err = await store.append('up1', 4, chunks('xx'), 11).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OffsetMismatch);
        expect((err as OffsetMismatch).actual).toBe(9);
        // Nor does one that thinks a partial exists where none does.
        const none = await store.append('nothing', 5, chunks('xx'), 11).catch((e: unknown) => e);
        expect((none as OffsetMismatch).actual).toBe(0);
        expect(await store.received('nothing')).toBe(0);
        // Exactly the limit passes.
        expect(await store.append('up1', 9, chunks('ld'), 11)).toEqual({ offset: 11, overflow: false });
        expect((await store.readPartialPrefix('up1', 100)).toString()).toBe('hello world');
        expect((await store.readPartialPrefix('up1', 5)).toString()).toBe('hello');
        // One byte past it is an overflow, and the byte is not written.
        expect(await store.append('up1', 11, chunks('!'), 11)).toEqual({ offset: 11, overflow: true });
        expect(await store.received('up1')).toBe(11);
      } finally {
        await close();
      }
    });

    it('a body that breaks off keeps the bytes written before', async () => {
      const { store, close } = await open();
      try {
        async function* cut(): AsyncGenerator<Uint8Array> {
          yield Buffer.from('abc');
          throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        }
        await expect(store.append('up2', 0, cut(), 100)).rejects.toThrow('aborted');
        expect(await store.received('up2')).toBe(3);
        await store.discardPartial('up2');
        expect(await store.received('up2')).toBe(0);
        // Discarding what is not there is fine.
        await store.discardPartial('up2');
      } finally {
        await close();
      }
    });

    it('hashes the stored bytes, seals them under a fresh key, serves ranges and removes them', async () => {
      const { store, close } = await open();
      try {
        // Over one PostgreSQL slice (1 MiB), so reads and hashes cross slices.
        const data = crypto.randomBytes(1_300_000);
        await store.append('up3', 0, chunks(data.subarray(0, 100_000), data.subarray(100_000)), data.length);
        expect(await store.hashPartial('up3')).toBe(crypto.createHash('sha256').update(data).digest('hex'));
        const key = await store.seal('up3');
        // The partial is gone: the upload's bytes are content now.
        expect(await store.received('up3')).toBe(0);
        expect((await collect(store.read(key, 0, data.length - 1))).equals(data)).toBe(true);
        expect((await collect(store.read(key, 10, 19))).equals(data.subarray(10, 20))).toBe(true);
        const across = [1_048_000, 1_049_000] as const;
        expect(
          (await collect(store.read(key, across[0], across[1]))).equals(
            data.subarray(across[0], across[1] + 1),
          ),
        ).toBe(true);
        // Two seals of the same bytes get two keys: the catalog keeps one, never a shared object.
        await store.append('up4', 0, chunks(data), data.length);
        const key2 = await store.seal('up4');
        expect(key2).not.toBe(key);
        await store.remove([key, key]);
        await expect(collect(store.read(key, 0, 1))).rejects.toThrow();
        expect((await collect(store.read(key2, 0, 2))).equals(data.subarray(0, 3))).toBe(true);
      } finally {
        await close();
      }
    });

    it('sweeps partials of uploads that are gone, and content no row names once past the grace period', async () => {
      const { store, close } = await open();
      try {
        await store.append('alive', 0, chunks('a'), 10);
        await store.append('gone', 0, chunks('b'), 10);
        await store.append('c1', 0, chunks('c'), 10);
        const kept = await store.seal('c1');
        await store.append('c2', 0, chunks('d'), 10);
        const orphan = await store.seal('c2');
        const sweep = (now: number) =>
          store.sweep({
            liveUploads: async (ids) => new Set(ids.filter((id) => id === 'alive')),
            liveKeys: async (keys) => new Set(keys.filter((k) => k === kept)),
            now,
            graceMs: 3_600_000,
          });
        // Now the seals are young (their catalog rows may be on their way): only the partial goes.
        expect(await sweep(Date.now())).toBe(1);
        expect(await store.received('alive')).toBe(1);
        expect(await store.received('gone')).toBe(0);
        expect((await collect(store.read(orphan, 0, 0))).toString()).toBe('d');
        // Two hours on, the orphan goes; named content stays.
        expect(await sweep(Date.now() + 7_200_000)).toBe(1);
        expect((await collect(store.read(kept, 0, 0))).toString()).toBe('c');
        await expect(collect(store.read(orphan, 0, 0))).rejects.toThrow();
        // Nothing more to do the next time.
        expect(await sweep(Date.now() + 7_200_000)).toBe(0);
      } finally {
        await close();
      }
    });
  });
}

describeBlobStore('FsBlobStore', async () => {
  const store = await FsBlobStore.open(tempDir());
  return { store, close: () => store.close() };
});

if (onPostgres) {
  describeBlobStore('PgBlobStore', async () => {
    // A database of its own (its schema migrated by PgStore, as a node does).
    const url = await databaseFor(path.join(tempDir(), 'blobs.db'));
    if (!url) throw new Error('test:pg without PIGEON_TEST_PG_URL');
    const pg = await PgStore.open({ url, poolSize: 2, mailboxMax: 10_000, retentionDays: 30 });
    const store = new PgBlobStore(pg.client);
    return {
      store,
      close: async () => {
        await store.close();
        await pg.close();
      },
    };
  });
}
