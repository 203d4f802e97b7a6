import { HttpErrorCode } from '@pigeon/protocol';
import { ClientErrorCode, PigeonHttpError } from './errors.js';
import { answerFailure, watchdog } from './file-http.js';
import type { DownloadOptions, DownloadResult, HttpTransport, TransportResponse } from './file-types.js';

// A download of PROTOCOL.md "Files" (`GET /api/files/ID`): the bytes streamed to `onChunk` or
// collected, resumed from an offset with Range (+ If-Range so a changed file starts over),
// the file's name and type read from the answer's headers. file-api.ts builds the request.

/**
 * Fetches `url` with `headers` (Authorization, and Range from `options.offset`). A body that
 * makes no progress for `stallMs` is given up (`unreachable`); the caller's abort is `aborted`.
 */
export async function downloadFile(
  o: { transport: HttpTransport; stallMs: number },
  url: string,
  headers: Record<string, string>,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const offset = options.offset ?? 0;
  const dog = watchdog(o.stallMs, options.signal);
  try {
    let res: TransportResponse;
    try {
      res = await o.transport({
        method: 'GET',
        url,
        headers,
        signal: dog.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw new PigeonHttpError(0, ClientErrorCode.aborted, 'download aborted');
      throw new PigeonHttpError(
        0,
        ClientErrorCode.unreachable,
        `GET ${url}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const meta = downloadMeta(res);
    if (res.status === 416) {
      // Asked from the end (or past it): nothing more to fetch when `offset` is the size.
      const size = rangeSize(res);
      await res.text().catch(() => '');
      if (size === offset) return { ...meta, size, from: offset, chunks: [] };
      throw new PigeonHttpError(
        416,
        HttpErrorCode.rangeNotSatisfiable,
        `${url}: range from ${offset} of ${size}`,
      );
    }
    if (res.status !== 200 && res.status !== 206) throw await answerFailure(url, res, 'download');
    const from = res.status === 206 ? offset : 0;
    const size =
      res.status === 206 ? rangeSize(res) : Number(res.headers.get('content-length') ?? Number.NaN);
    await options.onStart?.({ ...meta, size, from });
    const chunks: Uint8Array[] = [];
    let loaded = from;
    const reader = res.body?.getReader();
    if (reader) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!value) continue;
          dog.touch();
          loaded += value.byteLength;
          if (options.onChunk) await options.onChunk(value);
          else chunks.push(value);
          options.onProgress?.(loaded, size);
        }
      } catch (err) {
        await reader.cancel().catch(() => {});
        if (options.signal?.aborted)
          throw new PigeonHttpError(0, ClientErrorCode.aborted, 'download aborted');
        const why = dog.stalled
          ? `no data for ${o.stallMs} ms`
          : err instanceof Error
            ? err.message
            : String(err);
        throw new PigeonHttpError(0, ClientErrorCode.unreachable, `GET ${url}: ${why} after ${loaded} bytes`);
      }
    }
    return { ...meta, size: Number.isFinite(size) ? size : loaded, from, chunks };
  } finally {
    dog.done();
  }
}

function rangeSize(res: TransportResponse): number {
  return Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? Number.NaN);
}

/** The name in `Content-Disposition`: `filename*=UTF-8''…` (RFC 8187) first, else `filename="…"`. */
export function dispositionName(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // a malformed escape: fall back to the ASCII name
    }
  }
  return /filename="([^"]*)"/i.exec(header)?.[1] ?? null;
}

function downloadMeta(res: TransportResponse): Pick<DownloadResult, 'type' | 'name' | 'etag'> {
  return {
    type: res.headers.get('content-type') ?? 'application/octet-stream',
    name: dispositionName(res.headers.get('content-disposition')),
    etag: res.headers.get('etag'),
  };
}
