import {
  decodeUploadCompleted,
  decodeUploadCreated,
  type FileInfo,
  HttpErrorCode,
  type UploadCreated,
  type UploadRequest,
} from '@pigeon/protocol';
import { ClientErrorCode, PigeonHttpError } from './errors.js';
import { downloadFile } from './file-download.js';
import { answerFailure, watchdog } from './file-http.js';
import type {
  BlobLike,
  DownloadOptions,
  DownloadResult,
  HttpTransport,
  TransportRequest,
  TransportResponse,
} from './file-types.js';
import { httpBase, parseJsonText } from './http.js';
import type { AbortSignalLike } from './platform-types.js';

// The HTTP file API of PROTOCOL.md "Files": create an upload, send its bytes from an offset,
// ask where it stands, remove it; download a file (Range to resume). One call per request,
// typed answers, PigeonHttpError for everything else (its `code` is the server's).

export interface FileApiOptions {
  server: string;
  transport: HttpTransport;
  /** The session token, read at every request (a password change replaces it). */
  token(): string | null;
  /** POST, HEAD, DELETE and the headers of a GET must answer within this. */
  requestTimeoutMs: number;
  /** A PATCH or a GET body that makes no progress for this long is given up. */
  stallMs: number;
}

/** The answer to a PATCH: more bytes are expected, the upload is complete, or it stands elsewhere. */
export type PatchResult =
  | { kind: 'progress'; offset: number }
  | { kind: 'complete'; file: FileInfo; sha256: string }
  | { kind: 'mismatch'; offset: number };

function offsetHeader(res: TransportResponse): number | null {
  const raw = res.headers.get('upload-offset');
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export class FileApi {
  constructor(private readonly o: FileApiOptions) {}

  private url(path: string): string {
    return `${httpBase(this.o.server)}${path}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.o.token();
    if (token === null) throw new PigeonHttpError(401, HttpErrorCode.unauthorized, 'not signed in');
    return { authorization: `Bearer ${token}`, ...extra };
  }

  /**
   * One request with its watchdog. A network failure (or a stall) becomes
   * `PigeonHttpError(0, unreachable)`; the caller's abort `PigeonHttpError(0, aborted)`.
   */
  private async send(
    req: Omit<TransportRequest, 'signal'>,
    signal: AbortSignalLike | undefined,
    ms: number,
  ): Promise<TransportResponse> {
    const dog = watchdog(ms, signal);
    const progress = req.onUploadProgress;
    try {
      return await this.o.transport({
        ...req,
        signal: dog.signal,
        ...(progress
          ? {
              onUploadProgress: (sent: number) => {
                dog.touch();
                progress(sent);
              },
            }
          : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw new PigeonHttpError(0, ClientErrorCode.aborted, `${req.method} aborted`);
      const why = dog.stalled ? `no progress for ${ms} ms` : err instanceof Error ? err.message : String(err);
      throw new PigeonHttpError(0, ClientErrorCode.unreachable, `${req.method} ${req.url}: ${why}`);
    } finally {
      dog.done();
    }
  }

  /** `POST /api/uploads`: 201 with the new upload. */
  async create(request: UploadRequest, signal?: AbortSignalLike): Promise<UploadCreated> {
    const url = this.url('/api/uploads');
    const res = await this.send(
      {
        method: 'POST',
        url,
        headers: this.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify(request),
      },
      signal,
      this.o.requestTimeoutMs,
    );
    if (res.status !== 201) throw await answerFailure(url, res, 'upload');
    const created = decodeUploadCreated(parseJsonText(await res.text()));
    if (!created)
      throw new PigeonHttpError(res.status, ClientErrorCode.unexpectedAnswer, `${url}: not an upload`);
    return created;
  }

  /** `PATCH /api/uploads/ID` with the bytes `chunk`, which start at `offset`. */
  async patch(
    id: string,
    offset: number,
    chunk: BlobLike,
    onProgress: (sent: number) => void,
    signal?: AbortSignalLike,
  ): Promise<PatchResult> {
    const url = this.url(`/api/uploads/${encodeURIComponent(id)}`);
    const res = await this.send(
      {
        method: 'PATCH',
        url,
        headers: this.headers({
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
        }),
        body: chunk,
        onUploadProgress: onProgress,
      },
      signal,
      this.o.stallMs,
    );
    if (res.status === 204) {
      const next = offsetHeader(res);
      if (next === null)
        throw new PigeonHttpError(204, ClientErrorCode.unexpectedAnswer, `${url}: no Upload-Offset`);
      return { kind: 'progress', offset: next };
    }
    if (res.status === 200) {
      const done = decodeUploadCompleted(parseJsonText(await res.text()));
      if (!done)
        throw new PigeonHttpError(200, ClientErrorCode.unexpectedAnswer, `${url}: not a completed upload`);
      return { kind: 'complete', file: done.file, sha256: done.sha256 };
    }
    const at = offsetHeader(res);
    if (res.status === 409 && at !== null) {
      await res.text().catch(() => '');
      return { kind: 'mismatch', offset: at };
    }
    throw await answerFailure(url, res, 'upload');
  }

  /** `HEAD /api/uploads/ID`: how many bytes the server holds. */
  async offset(id: string, signal?: AbortSignalLike): Promise<number> {
    const url = this.url(`/api/uploads/${encodeURIComponent(id)}`);
    const res = await this.send(
      { method: 'HEAD', url, headers: this.headers() },
      signal,
      this.o.requestTimeoutMs,
    );
    const at = offsetHeader(res);
    if (res.status === 200 && at !== null) return at;
    // A HEAD answer has no body: the status says what happened.
    const code =
      res.status === 404
        ? HttpErrorCode.notFound
        : res.status === 401
          ? HttpErrorCode.unauthorized
          : `http_${res.status}`;
    throw new PigeonHttpError(res.status, code, `HEAD ${url} answered ${res.status}`);
  }

  /** `DELETE /api/uploads/ID`; a missing upload counts as removed. */
  async remove(id: string): Promise<void> {
    const url = this.url(`/api/uploads/${encodeURIComponent(id)}`);
    const res = await this.send(
      { method: 'DELETE', url, headers: this.headers() },
      undefined,
      this.o.requestTimeoutMs,
    );
    if (res.status === 204 || res.status === 404) return;
    throw await answerFailure(url, res, 'removing the upload');
  }

  /** `GET /api/files/ID`, from `offset` (Range) when given; the bytes go to `onChunk` or are collected. */
  async download(id: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    const url = this.url(`/api/files/${encodeURIComponent(id)}`);
    const offset = options.offset ?? 0;
    const extra: Record<string, string> = {};
    if (offset > 0) {
      extra.range = `bytes=${offset}-`;
      if (options.etag) extra['if-range'] = options.etag;
    }
    return downloadFile(this.o, url, this.headers(extra), options);
  }
}
