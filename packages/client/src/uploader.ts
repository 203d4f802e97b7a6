import { HttpErrorCode } from '@pigeon/protocol';
import { nextDelay } from './backoff.js';
import { ClientErrorCode, PigeonHttpError } from './errors.js';
import type { FileApi } from './file-api.js';
import type { AttachmentStore, BlobLike, OutboxFile, UploadErrorCode, UploadProgress } from './file-types.js';
import type { BackoffOptions } from './options.js';
import type { Outbox } from './outbox.js';
import {
  type AbortControllerLike,
  abortController,
  clearTimer,
  setTimer,
  type TimerHandle,
} from './runtime.js';

export interface UploaderHost {
  box(): Outbox | null;
  store(): AttachmentStore;
  api(): FileApi;
  /** Uploads may run now (the client is started and the network is not known to be gone). */
  active(): boolean;
  /** The outbox changed (an upload id, bytes confirmed, a file stored, a failure): persist, show, send. */
  changed(): void;
  progress(p: UploadProgress): void;
}

export interface UploaderOptions {
  backoff: BackoffOptions;
  random: () => number;
  /** Bytes per PATCH: a failure costs at most this much again, and `fetch` reports progress per chunk. */
  uploadChunkBytes: number;
}

/** The upload API's refusals that end a message (each removes the upload on the server). */
const FATAL: ReadonlySet<string> = new Set<UploadErrorCode>([
  HttpErrorCode.invalidFile,
  HttpErrorCode.emptyFile,
  HttpErrorCode.fileTooLarge,
  HttpErrorCode.quotaExceeded,
  HttpErrorCode.typeMismatch,
  HttpErrorCode.imageTooLarge,
  HttpErrorCode.checksumMismatch,
]);

function isFatal(code: string): code is UploadErrorCode {
  return FATAL.has(code);
}

/** Waits that come back: the network, the server being busy or restarting, a rate limit. */
function retryable(err: PigeonHttpError): boolean {
  return err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500;
}

/**
 * Uploads the outbox's attachments (PROTOCOL.md "Files: Upload"), one file at a time in outbox
 * order, resumably: create the upload (its id is stored with the outbox at once), PATCH the
 * bytes from the server's offset in chunks, and after any failure ask HEAD where it stands and
 * go on from there, with backoff. An upload the server lost (404: expired or removed) starts
 * again. A refusal of the file itself fails the message with that code; the message is sent
 * by the outbox sender once every file of it is stored.
 */
export class Uploader {
  private current: { id: string; controller: AbortControllerLike } | null = null;
  private running = false;
  private retryTimer: TimerHandle = null;
  private attempt = 0;
  /** Uploads the server said it does not have, one after the other (a restart loop is slowed down). */
  private lostInARow = 0;
  /** Blobs being written to the store, per message: an upload waits for them. */
  private readonly puts = new Map<string, Promise<void>>();

  constructor(
    private readonly o: UploaderOptions,
    private readonly host: UploaderHost,
  ) {}

  /** Keeps the message's attachments in the store; resolves once they are (or the item failed). */
  hold(id: string, blobs: readonly { key: string; blob: BlobLike }[]): Promise<void> {
    const store = this.host.store();
    const put = Promise.all(blobs.map((b) => store.put(b.key, b.blob))).then(
      () => undefined,
      (err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        if (
          this.host
            .box()
            ?.markFailed(id, ClientErrorCode.attachmentMissing, `cannot keep the attachment: ${why}`)
        ) {
          this.host.changed();
        }
      },
    );
    this.puts.set(id, put);
    void put.then(() => {
      if (this.puts.get(id) === put) this.puts.delete(id);
      this.pump();
    });
    return put;
  }

  /** Resolves once every attachment handed to `hold` is in the store. */
  async held(): Promise<void> {
    await Promise.all(this.puts.values());
  }

  /** Starts the next upload unless one runs, a retry is waiting, or uploads may not run. */
  pump(): void {
    if (this.running || this.retryTimer !== null || !this.host.active()) return;
    const next = this.host.box()?.nextUpload();
    if (!next) return;
    this.running = true;
    const controller = abortController();
    this.current = { id: next.id, controller };
    void this.upload(next.id, next.index, controller).then((retryIn) => {
      this.running = false;
      this.current = null;
      if (retryIn === null || retryIn === 0) {
        // Done (or go again at once): the next upload starts now.
        if (retryIn === null) {
          this.attempt = 0;
          this.lostInARow = 0;
        }
        this.pump();
        return;
      }
      this.retryTimer = setTimer(() => {
        this.retryTimer = null;
        this.pump();
      }, retryIn);
    });
  }

  /** The network is back (or the client started): a waiting retry goes at once. */
  kick(): void {
    if (this.retryTimer !== null) {
      clearTimer(this.retryTimer);
      this.retryTimer = null;
    }
    this.pump();
  }

  /** Stops the upload in progress (it resumes from the server's offset later). */
  stop(): void {
    this.current?.controller.abort();
    clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  /** The message was discarded: stop its upload, remove its uploads on the server and its bytes here. */
  cancel(id: string, files: readonly OutboxFile[]): void {
    if (this.current?.id === id) this.current.controller.abort();
    const store = this.host.store();
    for (const f of files) {
      // Best effort: an upload left behind expires on the server after PIGEON_UPLOAD_TTL.
      if (f.uploadId !== undefined)
        void this.host
          .api()
          .remove(f.uploadId)
          .catch(() => {});
      void Promise.resolve()
        .then(() => store.remove(f.key))
        .catch(() => {});
    }
  }

  /** The message is stored: its bytes are not needed any more. */
  release(files: readonly OutboxFile[]): void {
    const store = this.host.store();
    for (const f of files) {
      void Promise.resolve()
        .then(() => store.remove(f.key))
        .catch(() => {});
    }
  }

  /** One file; resolves with the ms to wait before trying again, or null (done, failed or cancelled). */
  private async upload(id: string, index: number, controller: AbortControllerLike): Promise<number | null> {
    const box = () => this.host.box();
    const file = () => box()?.get(id)?.files?.[index];
    const set = (change: Partial<OutboxFile>) => {
      box()?.setFile(id, index, change);
      this.host.changed();
    };
    const fail = (code: UploadErrorCode, message: string) => {
      if (box()?.markFailed(id, code, message)) this.host.changed();
      return null;
    };
    try {
      await this.puts.get(id);
      const start = file();
      if (!start || box()?.get(id)?.state !== 'pending') return null;
      const blob = await this.host.store().get(start.key);
      if (!blob) return fail(ClientErrorCode.attachmentMissing, `the bytes of ${start.name} are gone`);
      const api = this.host.api();
      const signal = controller.signal;
      let f: OutboxFile = start;
      if (f.uploadId === undefined) {
        const created = await api.create(
          { name: f.name, type: f.type, size: f.size, ...(f.thumb === undefined ? {} : { thumb: f.thumb }) },
          signal,
        );
        set({ uploadId: created.id, expiresAt: created.expiresAt, uploaded: created.offset });
      } else {
        // Resuming (after a failure, a reload, a restart): the server says where it stands.
        set({ uploaded: await api.offset(f.uploadId, signal) });
      }
      for (;;) {
        f = file() ?? f;
        const uploadId = f.uploadId;
        if (uploadId === undefined || signal.aborted) return null;
        if (f.uploaded >= f.size) {
          // Every byte is there but the completing answer was lost: the upload is the file.
          set({
            file: {
              id: uploadId,
              name: f.name,
              type: f.type,
              size: f.size,
              ...(f.thumb ? { thumb: f.thumb } : {}),
            },
          });
          return null;
        }
        const from = f.uploaded;
        const chunk = blob.slice(from, Math.min(f.size, from + this.o.uploadChunkBytes));
        const total = f.size;
        const result = await api.patch(
          uploadId,
          from,
          chunk,
          (sent) => this.host.progress({ id, index, loaded: from + sent, total }),
          signal,
        );
        if (result.kind === 'complete') {
          set({ uploaded: total, file: result.file });
          this.host.progress({ id, index, loaded: total, total });
          return null;
        }
        set({ uploaded: result.offset });
        this.attempt = 0;
      }
    } catch (err) {
      if (controller.signal.aborted) return null;
      if (!(err instanceof PigeonHttpError)) return fail(ClientErrorCode.uploadFailed, String(err));
      if (err.code === HttpErrorCode.notFound) {
        // The server lost the upload (expired, removed): start it again from the first byte,
        // at once the first time (nothing is wrong with the network), with backoff after that.
        box()?.setFile(id, index, { uploadId: undefined, expiresAt: undefined, uploaded: 0 });
        this.host.changed();
        return this.lostInARow++ === 0 ? 0 : this.delay(err);
      }
      if (isFatal(err.code)) return fail(err.code, err.message);
      if (retryable(err) || err.code === HttpErrorCode.unauthorized) return this.delay(err);
      return fail(ClientErrorCode.uploadFailed, `${err.code}: ${err.message}`);
    }
  }

  private delay(err: PigeonHttpError): number {
    const wait = nextDelay(this.attempt++, this.o.backoff, this.o.random);
    return err.retryAfterSeconds !== undefined ? Math.max(wait, err.retryAfterSeconds * 1000) : wait;
  }
}
