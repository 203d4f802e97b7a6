// ~300 lines for one role: the upload API's rules, in the spec's order, with the completion
// checks they end in (the sweep and the refusals are beside it: file-sweep.ts, upload-errors.ts).
import crypto from 'node:crypto';
import {
  decodeUploadRequest,
  HttpErrorCode,
  imageFits,
  isInlineImageType,
  LIMITS,
  matchesDeclaredType,
  sniffImage,
  type UploadCompleted,
  type UploadCreated,
} from '@pigeon/protocol';
import type { HttpError } from '../http/api-body.js';
import type { Limiter } from '../limiter/limiter.js';
import type { Logger } from '../logger.js';
import { type BlobStore, OffsetMismatch } from './blob-store.js';
import { type FileCatalog, fileInfo, type StoredFile, type UploadRow } from './file-catalog.js';
import type { FileMetrics, UploadOutcome } from './file-metrics.js';
import { sweepFiles } from './file-sweep.js';
import { mismatch, notFound, UploadError } from './upload-errors.js';
import { UploadLocks } from './upload-locks.js';

export interface FileServiceOptions {
  catalog: FileCatalog;
  blobs: BlobStore;
  /** `PIGEON_UPLOAD_RATE`: uploads created per user. */
  limiter: Limiter;
  metrics: FileMetrics;
  log: Logger;
  clock: () => number;
  /** `PIGEON_FILE_MAX`, bytes. */
  fileMax: number;
  /** `PIGEON_FILE_QUOTA`, bytes. */
  fileQuota: number;
  /** `PIGEON_UPLOAD_TTL`, in ms. */
  uploadTtlMs: number;
}

/** The answer to a PATCH: more bytes are missing, or the upload is complete. */
export type AppendAnswer =
  | { kind: 'partial'; offset: number }
  | { kind: 'complete'; answer: UploadCompleted };

/**
 * The upload API's logic (PROTOCOL.md "Files"), between the HTTP routes and the two stores:
 * the catalog (metadata, in the database) and the blob store (bytes). Failures are thrown
 * as HttpError with the spec's status and code.
 */
export class FileService {
  private readonly locks = new UploadLocks();

  constructor(private readonly o: FileServiceOptions) {}

  /** `POST /api/uploads`: checks in the spec's order, then creates the upload. */
  async create(owner: string, body: unknown): Promise<UploadCreated> {
    const { catalog, metrics } = this.o;
    const decoded = decodeUploadRequest(body);
    if (!decoded.ok) throw this.refuse(400, decoded.code, decoded.message);
    const req = decoded.request;
    if (req.size > this.o.fileMax) {
      throw this.refuse(413, HttpErrorCode.fileTooLarge, `a file may have at most ${this.o.fileMax} bytes`, {
        max: this.o.fileMax,
      });
    }
    const quotaError = (used: number) =>
      this.refuse(
        413,
        HttpErrorCode.quotaExceeded,
        `this upload would pass your quota of ${this.o.fileQuota} bytes`,
        {
          quota: this.o.fileQuota,
          used,
        },
      );
    // Checked before the rate, so a refused upload takes no token; the insert checks again.
    const used = await catalog.quotaUsed(owner);
    if (used + req.size > this.o.fileQuota) throw quotaError(used);
    const now = this.o.clock();
    const wait = await this.o.limiter.take(owner, now);
    if (wait > 0) {
      throw this.refuse(
        429,
        HttpErrorCode.rateLimited,
        'too many uploads; retry later',
        {},
        {
          'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
        },
      );
    }
    const id = crypto.randomBytes(16).toString('base64url');
    const expiresAt = now + this.o.uploadTtlMs;
    let created: Awaited<ReturnType<FileCatalog['createUpload']>>;
    try {
      created = await catalog.createUpload(
        {
          id,
          owner,
          name: req.name,
          type: req.type,
          size: req.size,
          declaredSha256: req.sha256 ?? null,
          thumb: req.thumb ?? null,
          createdAt: now,
          expiresAt,
        },
        this.o.fileQuota,
      );
    } catch (err) {
      await this.o.limiter.refund(owner, this.o.clock());
      throw err;
    }
    if (!created.ok) {
      // Another upload of this user took the room in between.
      await this.o.limiter.refund(owner, this.o.clock());
      throw quotaError(created.used);
    }
    metrics.uploads.labels('created').inc();
    return { id, offset: 0, expiresAt };
  }

  /** `HEAD /api/uploads/ID`: the offset and the declared length. */
  async status(owner: string, id: string): Promise<{ offset: number; length: number }> {
    const upload = await this.ownUpload(owner, id);
    const offset = upload.sha256 !== null ? upload.size : await this.o.blobs.received(id);
    return { offset, length: upload.size };
  }

  /**
   * `PATCH /api/uploads/ID`: appends the body at `offset`; the request that brings the last
   * byte runs the checks and stores the file. `openBody` gives the body's chunks, ending
   * them when its signal aborts: when a later request for the same upload takes over.
   */
  async append(
    owner: string,
    id: string,
    offset: number,
    openBody: (stop: AbortSignal) => AsyncIterable<Uint8Array>,
  ): Promise<AppendAnswer> {
    await this.ownUpload(owner, id);
    return this.locks.run(id, async (stop) => {
      const body = openBody(stop);
      // Read again in the lock: a request before this one may have completed or removed it.
      const upload = await this.ownUpload(owner, id);
      if (upload.sha256 !== null) {
        // Complete: a client that lost the 200 asks again with the final offset and no bytes.
        if (offset === upload.size && (await isEmpty(body))) {
          return { kind: 'complete', answer: this.completedAnswer(upload) };
        }
        throw mismatch(upload.size);
      }
      let received: number;
      try {
        const r = await this.o.blobs.append(id, offset, body, upload.size);
        if (r.overflow) {
          await this.discard(upload, 'too_large');
          throw this.refuse(
            413,
            HttpErrorCode.tooLarge,
            `the upload has ${upload.size} bytes, and more came`,
            {},
            {
              Connection: 'close',
            },
          );
        }
        this.o.metrics.bytesReceived.inc(r.offset - offset);
        received = r.offset;
      } catch (err) {
        if (err instanceof OffsetMismatch) throw mismatch(err.actual);
        throw err;
      }
      if (received < upload.size) return { kind: 'partial', offset: received };
      return { kind: 'complete', answer: await this.complete(upload) };
    });
  }

  /** `DELETE /api/uploads/ID`. */
  async remove(owner: string, id: string): Promise<void> {
    await this.locks.run(id, async () => {
      const { result, keys } = await this.o.catalog.removeUpload(id, owner);
      if (result === 'missing') throw notFound();
      if (result === 'in_use') {
        throw this.refuse(409, HttpErrorCode.fileInUse, 'a message refers to this upload');
      }
      this.o.metrics.uploads.labels('deleted').inc();
      await this.o.blobs.discardPartial(id);
      await this.o.blobs.remove(keys);
    });
  }

  /** The file `user` may download, or 404 (the same for "not yours" and "does not exist"). */
  async download(user: string, id: string): Promise<StoredFile> {
    const file = await this.o.catalog.download(id, user, this.o.clock());
    if (!file) throw notFound();
    return file;
  }

  read(file: StoredFile, start: number, end: number): AsyncIterable<Uint8Array> {
    return this.o.blobs.read(file.key, start, end);
  }

  /**
   * Removes expired uploads nobody refers to, then what a crash or a cut connection left
   * behind in the blob store (file-sweep.ts). Returns how many things were removed.
   */
  sweep(): Promise<number> {
    return sweepFiles(this.o, this.locks, this.o.clock());
  }

  close(): Promise<void> {
    return this.locks.close();
  }

  /** The checks of a complete upload, then the durable store; a failed check removes it. */
  private async complete(upload: UploadRow): Promise<UploadCompleted> {
    const { blobs, catalog } = this.o;
    const prefix = await blobs.readPartialPrefix(upload.id, LIMITS.sniffBytes);
    if (!matchesDeclaredType(upload.type, prefix)) {
      throw await this.failCheck(upload, HttpErrorCode.typeMismatch, `the content is not ${upload.type}`);
    }
    let width: number | null = null;
    let height: number | null = null;
    if (isInlineImageType(upload.type)) {
      const image = sniffImage(upload.type, prefix);
      if (!image) {
        throw await this.failCheck(
          upload,
          HttpErrorCode.typeMismatch,
          `the content is not a readable ${upload.type}`,
        );
      }
      if (!imageFits(image)) {
        throw await this.failCheck(
          upload,
          HttpErrorCode.imageTooLarge,
          `images may have at most ${LIMITS.imageMaxSide} pixels a side and ${LIMITS.imageMaxPixels} in all`,
        );
      }
      width = image.width;
      height = image.height;
    }
    const sha256 = await blobs.hashPartial(upload.id);
    if (upload.declaredSha256 !== null && upload.declaredSha256 !== sha256) {
      throw await this.failCheck(
        upload,
        HttpErrorCode.checksumMismatch,
        'the content does not have the declared sha256',
      );
    }
    const key = await blobs.seal(upload.id);
    const stored = await catalog.complete(upload.id, { sha256, key, size: upload.size, width, height });
    if (!stored) {
      // Removed while its last bytes were checked (DELETE from another node, the sweep).
      await blobs.remove([key]);
      throw notFound();
    }
    if (stored.key !== key) {
      await blobs.remove([key]);
      this.o.metrics.uploads.labels('deduplicated').inc();
    } else this.o.metrics.uploads.labels('completed').inc();
    return { file: fileInfo({ ...upload, width, height }), sha256 };
  }

  private completedAnswer(upload: UploadRow): UploadCompleted {
    return { file: fileInfo(upload), sha256: upload.sha256 ?? '' };
  }

  private async failCheck(upload: UploadRow, code: HttpErrorCode & UploadOutcome, message: string) {
    await this.discard(upload, code);
    return this.refuse(422, code, message);
  }

  /** Removes an incomplete upload after a failed check (its bytes were never content). */
  private async discard(upload: UploadRow, outcome: UploadOutcome): Promise<void> {
    const { keys } = await this.o.catalog.removeUpload(upload.id, null);
    await this.o.blobs.discardPartial(upload.id);
    await this.o.blobs.remove(keys);
    this.o.log.debug({ upload: upload.id, outcome }, 'upload refused');
  }

  private async ownUpload(owner: string, id: string): Promise<UploadRow> {
    const upload = await this.o.catalog.upload(id);
    // Someone else's upload is "not found", exactly like one that does not exist.
    if (!upload || upload.owner !== owner) throw notFound();
    return upload;
  }

  /** An HttpError counted under its code in pigeon_uploads_total. */
  private refuse(
    status: number,
    code: HttpErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): HttpError {
    this.o.metrics.uploads.labels(code).inc();
    return new UploadError(status, code, message, extra, headers);
  }
}

/** True when the body has no bytes (reads at most its first chunk). */
async function isEmpty(body: AsyncIterable<Uint8Array>): Promise<boolean> {
  for await (const chunk of body) if (chunk.length > 0) return false;
  return true;
}
