/// <reference types="node" />
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import * as v from 'valibot';
import type { KeyValueStorage } from '../platform-types.js';

/**
 * Keeps each key in its own file of a directory, safe for several processes at once
 * (`pigeon listen` beside fifty `pigeon send`s):
 * - every write goes to a temporary file, is fsynced, renamed over the key's file and the
 *   directory fsynced, so a crash leaves the old or the new value, never a torn one;
 * - every change holds the key's lock (proper-lockfile: a lock directory, stale after 10 s
 *   if its holder died), and `update` reads, merges and writes under it, so two processes
 *   merging the outbox never lose each other's items;
 * - a process only ever writes the keys it changed: `pigeon send` never touches the cursor
 *   that `pigeon listen` moves forward.
 * A `path` that is a file in the old one-JSON-file format is migrated into the directory.
 */
export function fileStorage(path: string, options: { legacyFile?: string } = {}): KeyValueStorage {
  let ready: Promise<void> | null = null;
  const prepare = () => {
    ready ??= prepareDirectory(path, options.legacyFile);
    return ready;
  };
  const fileOf = (key: string) => join(path, encodeKey(key));
  return {
    async get(key) {
      await prepare();
      return readOrNull(fileOf(key));
    },
    async set(key, value) {
      await prepare();
      await withLock(fileOf(key), () => writeAtomically(fileOf(key), value));
    },
    async remove(key) {
      await prepare();
      await withLock(fileOf(key), () => removeDurably(fileOf(key)));
    },
    async update(key, fn) {
      await prepare();
      const file = fileOf(key);
      await withLock(file, async () => {
        const next = fn(await readOrNull(file));
        if (next === null) await removeDurably(file);
        else await writeAtomically(file, next);
      });
    },
  };
}

/** Keys become file names: letters, digits, `.`, `_`, `-` stay, everything else is %XX. */
function encodeKey(key: string): string {
  const safe = encodeURIComponent(key).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  // "." and ".." are not file names of their own.
  return safe.startsWith('.') ? `%2E${safe.slice(1)}` : safe;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAtomically(file: string, value: string): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(value, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await fsyncDirectory(dir);
}

async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await fsyncDirectory(dirname(file));
}

/** Holds `<file>.lock` while `fn` runs; waits (up to ~10 s) while another process holds it. */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 400, factor: 1.2, minTimeout: 2, maxTimeout: 50, randomize: true },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

const LegacyFileSchema = v.record(v.string(), v.unknown());

/**
 * Creates the directory (mode 0700: it holds the outbox) and imports the old one-file format:
 * `path` itself when it is still a file, or `legacyFile`. Keys already in the directory win.
 */
async function prepareDirectory(path: string, legacyFile: string | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const isFile = (await stat(path).catch(() => null))?.isFile() === true;
  if (!isFile && !legacyFile) {
    await mkdir(path, { recursive: true, mode: 0o700 });
    return;
  }
  await withLock(`${path}.migrate`, async () => {
    const moved = `${path}.old-format`;
    if ((await stat(path).catch(() => null))?.isFile()) await rename(path, moved);
    await mkdir(path, { recursive: true, mode: 0o700 });
    for (const source of [moved, legacyFile]) {
      if (!source) continue;
      const text = await readOrNull(source);
      if (text === null) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const result = v.safeParse(LegacyFileSchema, parsed);
      for (const [key, value] of Object.entries(result.success ? result.output : {})) {
        const file = join(path, encodeKey(key));
        if (typeof value === 'string' && (await readOrNull(file)) === null)
          await writeAtomically(file, value);
      }
      await removeDurably(source);
    }
  });
}
