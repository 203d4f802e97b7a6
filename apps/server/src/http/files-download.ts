import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { contentDisposition, HttpErrorCode, isInlineImageType } from '@pigeon/protocol';
import type { StoredFile } from '../files/file-catalog.js';
import type { FileMetrics } from '../files/file-metrics.js';
import { ifRangeAllows, noneMatch, rangeFor } from './byte-range.js';
import { sendError } from './respond.js';

/** File responses render nothing: no script, no plugin, no same-origin powers. */
const FILE_CSP = "default-src 'none'; sandbox";

/**
 * The answer to `GET|HEAD /api/files/ID` once the user may have the file (PROTOCOL.md
 * "Files: Download"): safe headers, `If-None-Match`, `Range` / `If-Range`, then the bytes
 * streamed from `read` (never the whole file in memory).
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: StoredFile,
  read: (start: number, end: number) => AsyncIterable<Uint8Array>,
  fileMetrics: FileMetrics,
): Promise<void> {
  // Only the four image types, whose magic bytes were checked at completion, are shown
  // by the browser; everything else (SVG and HTML included) is a download of opaque bytes.
  const inline = isInlineImageType(file.type);
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string> = {
    'Content-Type': inline ? file.type : 'application/octet-stream',
    'Content-Disposition': contentDisposition(file.name, inline),
    'Content-Security-Policy': FILE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, max-age=31536000, immutable',
  };
  if (noneMatch(req.headers['if-none-match'], etag)) {
    fileMetrics.downloads.labels('304').inc();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const range = ifRangeAllows(header(req, 'if-range'), etag)
    ? rangeFor(header(req, 'range'), file.size)
    : ({ kind: 'full' } as const);
  if (range.kind === 'unsatisfiable') {
    fileMetrics.downloads.labels('416').inc();
    sendError(res, 416, HttpErrorCode.rangeNotSatisfiable, 'the range is outside the file', {
      'Content-Range': `bytes */${file.size}`,
    });
    return;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, file.size - 1];
  const status = range.kind === 'partial' ? 206 : 200;
  if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
  headers['Content-Length'] = String(end - start + 1);
  res.writeHead(status, headers);
  fileMetrics.downloads.labels(String(status)).inc();
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let sent = 0;
  const counted = async function* (chunks: AsyncIterable<Uint8Array>) {
    for await (const chunk of chunks) {
      sent += chunk.length;
      yield chunk;
    }
  };
  try {
    await pipeline(counted(read(start, end)), res);
  } finally {
    fileMetrics.bytesSent.inc(sent);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
