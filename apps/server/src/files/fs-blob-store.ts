import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type AppendResult, type BlobStore, type BlobSweep, OffsetMismatch } from './blob-store.js';

/*
 * The local file store of one node (the embedded default), under `PIGEON_FILES_DIR`
 * (default `files/` beside the SQLite file):
 *
 *   partial/<upload id>        bytes received so far; its length is the upload's offset
 *   content/<k0k1>/<key>       sealed content, never written again
 *
 * A partial is not synced while it grows: a 204 only says where to resume, and after a
 * crash its length (what the OS kept) is where the client resumes, as PROTOCOL.md allows
 * ("may be lower than what it sent"). Sealing syncs the file, renames it into `content/`
 * and syncs that directory, so a crash leaves either a partial (resumed, or swept with its
 * upload) or whole content, and content is only referred to once it is there. Keys are
 * random, one per seal: two seals of the same bytes make two files until the catalog
 * keeps one (see blob-store.ts for why keys are never shared).
 */

/** A safe file name: upload ids are `[A-Za-z0-9_-]{1,64}` (MESSAGE_ID_PATTERN); keys are hex. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs';
  private readonly partials: string;
  private readonly contents: string;

  private constructor(readonly root: string) {
    this.partials = path.join(root, 'partial');
    this.contents = path.join(root, 'content');
  }

  static async open(root: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(path.resolve(root));
    await fsp.mkdir(store.partials, { recursive: true });
    await fsp.mkdir(store.contents, { recursive: true });
    return store;
  }

  private partialPath(upload: string): string {
    if (!NAME.test(upload)) throw new Error(`not an upload id: ${JSON.stringify(upload)}`);
    return path.join(this.partials, upload);
  }

  private contentPath(key: string): string {
    if (!NAME.test(key)) throw new Error(`not a content key: ${JSON.stringify(key)}`);
    return path.join(this.contents, key.slice(0, 2), key);
  }

  async received(upload: string): Promise<number> {
    try {
      return (await fsp.stat(this.partialPath(upload))).size;
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
  }

  async append(
    upload: string,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    limit: number,
  ): Promise<AppendResult> {
    return appendTo(this.partialPath(upload), offset, body, limit);
  }

  async readPartialPrefix(upload: string, length: number): Promise<Buffer> {
    const fh = await fsp.open(this.partialPath(upload), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async hashPartial(upload: string): Promise<string> {
    const hash = crypto.createHash('sha256');
    await pipeline(fs.createReadStream(this.partialPath(upload)), hash);
    return hash.digest('hex');
  }

  async seal(upload: string): Promise<string> {
    const from = this.partialPath(upload);
    const key = crypto.randomBytes(16).toString('hex');
    const to = this.contentPath(key);
    const fh = await fsp.open(from, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.mkdir(path.dirname(to), { recursive: true });
    await fsp.rename(from, to);
    // The rename is durable once the directory holding the new name is synced (and the
    // fan-out directory's own entry, when it was just made).
    await syncDir(path.dirname(to));
    await syncDir(this.contents);
    return key;
  }

  async discardPartial(upload: string): Promise<void> {
    await fsp.rm(this.partialPath(upload), { force: true });
  }

  async *read(key: string, start: number, end: number): AsyncIterable<Uint8Array> {
    if (end < start) return;
    yield* fs.createReadStream(this.contentPath(key), { start, end, highWaterMark: 256 * 1024 });
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) await fsp.rm(this.contentPath(key), { force: true });
  }

  async sweep(sweep: BlobSweep): Promise<number> {
    let removed = 0;
    const partials = (await fsp.readdir(this.partials)).filter((n) => NAME.test(n));
    if (partials.length > 0) {
      const live = await sweep.liveUploads(partials);
      for (const id of partials) {
        if (live.has(id)) continue;
        await this.discardPartial(id);
        removed++;
      }
    }
    for (const fan of await fsp.readdir(this.contents)) {
      const dir = path.join(this.contents, fan);
      const keys = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => NAME.test(n));
      if (keys.length === 0) continue;
      const live = await sweep.liveKeys(keys);
      for (const key of keys) {
        if (live.has(key)) continue;
        const stat = await fsp.stat(path.join(dir, key)).catch(() => null);
        if (!stat || sweep.now - stat.mtimeMs < sweep.graceMs) continue;
        await fsp.rm(path.join(dir, key), { force: true });
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}

async function appendTo(
  file: string,
  offset: number,
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<AppendResult> {
  // O_APPEND: every write lands at the end, whatever the position says.
  const fh = await fsp.open(file, 'a');
  try {
    const size = (await fh.stat()).size;
    if (size !== offset) throw new OffsetMismatch(offset, size);
    let at = size;
    let overflow = false;
    for await (const chunk of body) {
      if (at + chunk.length > limit) {
        overflow = true;
        break;
      }
      // A chunk is written whole before the next is read: the socket is not read faster
      // than the disk takes it (backpressure), and memory holds one chunk at a time.
      await fh.write(chunk);
      at += chunk.length;
    }
    return { offset: at, overflow };
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
