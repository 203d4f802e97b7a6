import type {
  CompletedContent,
  FileCatalog,
  NewUpload,
  RemoveResult,
  StoredFile,
  UploadRow,
} from '../files/file-catalog.js';

/** Calls into the SQLite store's threads by method name (SqliteStore.callThread). */
export interface ThreadCalls {
  callThread<T>(thread: 'reader' | 'writer', method: string, ...args: unknown[]): Promise<T>;
}

/**
 * The file catalog on the SQLite file: the SQL runs in the store's threads
 * (sqlite-files.ts), writes in the writer thread, in line with the commits that link files
 * to messages, so a send's check of its files and the sweep never interleave.
 */
export class SqliteFileCatalog implements FileCatalog {
  constructor(
    private readonly threads: ThreadCalls,
    private readonly now: () => number,
  ) {}

  quotaUsed(owner: string): Promise<number> {
    return this.threads.callThread('reader', 'files.quotaUsed', owner);
  }

  createUpload(upload: NewUpload, quota: number): Promise<{ ok: true } | { ok: false; used: number }> {
    return this.threads.callThread('writer', 'files.createUpload', upload, quota);
  }

  upload(id: string): Promise<UploadRow | null> {
    return this.threads.callThread('reader', 'files.upload', id);
  }

  complete(id: string, content: CompletedContent): Promise<{ key: string } | null> {
    return this.threads.callThread('writer', 'files.complete', id, content, this.now());
  }

  removeUpload(id: string, owner: string | null): Promise<{ result: RemoveResult; keys: string[] }> {
    return this.threads.callThread('writer', 'files.removeUpload', id, owner);
  }

  download(id: string, user: string, now: number): Promise<StoredFile | null> {
    return this.threads.callThread('reader', 'files.download', id, user, now);
  }

  sweep(now: number, limit: number): Promise<{ uploads: string[]; keys: string[] }> {
    return this.threads.callThread('writer', 'files.sweep', now, limit);
  }

  async liveUploads(ids: readonly string[]): Promise<Set<string>> {
    return new Set(await this.threads.callThread<string[]>('reader', 'files.liveUploads', ids));
  }

  async liveKeys(keys: readonly string[]): Promise<Set<string>> {
    return new Set(await this.threads.callThread<string[]>('reader', 'files.liveKeys', keys));
  }

  usage(): Promise<{ bytes: number; blobs: number }> {
    return this.threads.callThread('reader', 'files.usage');
  }
}
