import path from 'node:path';
import type { Config } from '../config.js';
import type { Limiter } from '../limiter/limiter.js';
import type { PgClient } from '../store/pg-client.js';
import { PgFileCatalog } from '../store/pg-files.js';
import { SqliteFileCatalog, type ThreadCalls } from '../store/sqlite-file-catalog.js';
import type { BlobStore } from './blob-store.js';
import type { FileCatalog } from './file-catalog.js';
import { FsBlobStore } from './fs-blob-store.js';
import { PgBlobStore } from './pg-blob-store.js';

/** The file side of a node's engines (engines.ts): metadata, bytes and the upload bucket. */
export interface FileParts {
  readonly catalog: FileCatalog;
  readonly blobs: BlobStore;
  /** `PIGEON_UPLOAD_RATE` per user (in Redis with several nodes). */
  readonly uploadLimiter: Limiter;
  close(): Promise<void>;
}

/** `PIGEON_FILES_DIR`, else `files/` beside the SQLite file. */
export function filesDir(config: Pick<Config, 'filesDir' | 'dbPath'>): string {
  return path.resolve(config.filesDir ?? path.join(path.dirname(path.resolve(config.dbPath)), 'files'));
}

/** One node on SQLite: the catalog in the store's threads, the bytes in a local directory. */
export async function sqliteFileParts(
  config: Config,
  store: ThreadCalls,
  uploadLimiter: Limiter,
): Promise<FileParts> {
  const blobs = await FsBlobStore.open(filesDir(config));
  return {
    catalog: new SqliteFileCatalog(store, config.clock),
    blobs,
    uploadLimiter,
    close: () => blobs.close(),
  };
}

/**
 * PostgreSQL: the catalog beside the messages; the bytes as large objects (every node
 * reaches them), or in a local directory when `PIGEON_FILE_STORE=fs` (one node only:
 * config.ts refuses it with Redis).
 */
export async function pgFileParts(config: Config, db: PgClient, uploadLimiter: Limiter): Promise<FileParts> {
  const blobs: BlobStore =
    config.fileStore === 'fs' ? await FsBlobStore.open(filesDir(config)) : new PgBlobStore(db, config.clock);
  return {
    catalog: new PgFileCatalog(db, config.clock),
    blobs,
    uploadLimiter,
    close: () => blobs.close(),
  };
}
