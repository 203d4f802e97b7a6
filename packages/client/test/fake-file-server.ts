import { decodeUploadRequest, type FileInfo, HttpErrorCode } from '@pigeon/protocol';
import type { BlobLike, HttpTransport, TransportRequest, TransportResponse } from '../src/index.js';

/**
 * The upload and download API of PROTOCOL.md "Files" in memory, as an `HttpTransport`, for
 * unit tests of the client's upload state machine with fake timers (resume, offsets, lost
 * uploads, refusals). The real server is tested against in test/integration.
 */
export function fakeFileServer(options: { max?: number } = {}) {
  const max = options.max ?? 25_000_000;
  let seq = 0;
  const uploads = new Map<
    string,
    { size: number; bytes: number[]; name: string; type: string; thumb?: string }
  >();
  const files = new Map<string, { info: FileInfo; bytes: Uint8Array }>();
  const log: string[] = [];
  const patched: { id: string; offset: number; length: number }[] = [];
  const faults = {
    /** The next PATCH keeps this many bytes, then the connection "drops" (the request rejects). */
    cutAfter: null as number | null,
    /** The next requests of this method fail at the network level. */
    offline: new Set<string>(),
    /** Refuse completion with this code (422). */
    refuseWith: null as string | null,
    /** The next GET body breaks after this many bytes. */
    breakGetAfter: null as number | null,
    /** After this many more PATCHes, the network is down for every request until it is set to null. */
    downAfterPatches: null as number | null,
    /** The next upload creations are refused 429 with this Retry-After (seconds). */
    rateLimited: 0,
    retryAfterSeconds: 2,
  };

  const answer = (
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): TransportResponse => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status,
      headers: { get: (n) => lower[n.toLowerCase()] ?? null },
      text: async () => text,
      body: null,
    };
  };
  const error = (status: number, code: string, extra: Record<string, string> = {}) =>
    answer(status, { error: code, message: code }, extra);

  async function bytesOf(body: TransportRequest['body']): Promise<Uint8Array> {
    if (body === undefined) return new Uint8Array();
    if (typeof body === 'string') return new TextEncoder().encode(body);
    return new Uint8Array(await (body as BlobLike).arrayBuffer());
  }

  const transport: HttpTransport = async (req) => {
    const path = new URL(req.url).pathname;
    log.push(`${req.method} ${path}`);
    if (req.signal?.aborted) throw new Error('aborted');
    if (faults.downAfterPatches !== null && faults.downAfterPatches <= 0) throw new Error('network down');
    if (req.method === 'PATCH' && faults.downAfterPatches !== null) faults.downAfterPatches--;
    if (faults.offline.has(req.method)) {
      faults.offline.delete(req.method);
      throw new Error('network down');
    }
    if (!req.headers.authorization?.startsWith('Bearer ')) return error(401, HttpErrorCode.unauthorized);
    const id = decodeURIComponent(path.split('/').pop() ?? '');
    if (req.method === 'POST' && path === '/api/uploads' && faults.rateLimited > 0) {
      faults.rateLimited--;
      return error(429, HttpErrorCode.rateLimited, { 'retry-after': String(faults.retryAfterSeconds) });
    }
    if (req.method === 'POST' && path === '/api/uploads') {
      const checked = decodeUploadRequest(JSON.parse(String(req.body)));
      if (!checked.ok) return error(400, checked.code);
      if (checked.request.size > max) return error(413, HttpErrorCode.fileTooLarge);
      const uid = `up${++seq}`;
      uploads.set(uid, {
        size: checked.request.size,
        bytes: [],
        name: checked.request.name,
        type: checked.request.type,
        ...(checked.request.thumb ? { thumb: checked.request.thumb } : {}),
      });
      return answer(
        201,
        { id: uid, offset: 0, expiresAt: 2_000_000_000_000 },
        { location: `/api/uploads/${uid}` },
      );
    }
    const up = uploads.get(id);
    if (req.method === 'HEAD') {
      if (!up) return answer(404);
      return answer(200, undefined, {
        'upload-offset': String(up.bytes.length),
        'upload-length': String(up.size),
      });
    }
    if (req.method === 'DELETE') {
      if (!up) return error(404, HttpErrorCode.notFound);
      uploads.delete(id);
      return answer(204);
    }
    if (req.method === 'PATCH') {
      if (!up) return error(404, HttpErrorCode.notFound);
      const offset = Number(req.headers['upload-offset']);
      if (offset !== up.bytes.length)
        return error(409, HttpErrorCode.offsetMismatch, { 'upload-offset': String(up.bytes.length) });
      const data = await bytesOf(req.body);
      patched.push({ id, offset, length: data.length });
      const keep = faults.cutAfter === null ? data.length : Math.min(faults.cutAfter, data.length);
      const cut = faults.cutAfter !== null;
      faults.cutAfter = null;
      if (offset + keep > up.size) {
        uploads.delete(id);
        return error(413, HttpErrorCode.tooLarge);
      }
      up.bytes.push(...data.slice(0, keep));
      req.onUploadProgress?.(Math.floor(keep / 2));
      req.onUploadProgress?.(keep);
      if (cut) throw new Error('connection reset');
      if (up.bytes.length < up.size)
        return answer(204, undefined, { 'upload-offset': String(up.bytes.length) });
      if (faults.refuseWith) {
        uploads.delete(id);
        const code = faults.refuseWith;
        faults.refuseWith = null;
        return error(422, code);
      }
      const info: FileInfo = {
        id,
        name: up.name,
        type: up.type,
        size: up.size,
        ...(up.thumb ? { thumb: up.thumb } : {}),
      };
      files.set(id, { info, bytes: Uint8Array.from(up.bytes) });
      return answer(200, { file: info, sha256: 'a'.repeat(64) });
    }
    if (req.method === 'GET' && path.startsWith('/api/files/')) {
      const f = files.get(id);
      if (!f) return error(404, HttpErrorCode.notFound);
      const size = f.bytes.length;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      if (start >= size && range)
        return error(416, HttpErrorCode.rangeNotSatisfiable, { 'content-range': `bytes */${size}` });
      const body = f.bytes.slice(start);
      const headers: Record<string, string> = {
        'content-type': f.info.type,
        'content-disposition': `attachment; filename="x"; filename*=UTF-8''${encodeURIComponent(f.info.name)}`,
        etag: `"${'a'.repeat(64)}"`,
        'content-length': String(body.length),
      };
      if (range) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
      const res = answer(range ? 206 : 200, undefined, headers);
      const breakAfter = faults.breakGetAfter;
      faults.breakGetAfter = null;
      const pieces = [body.slice(0, Math.ceil(body.length / 2)), body.slice(Math.ceil(body.length / 2))];
      let sent = 0;
      res.body = {
        getReader: () => ({
          read: async () => {
            const next = pieces.shift();
            if (!next) return { done: true };
            if (breakAfter !== null && sent + next.length > breakAfter) throw new Error('connection reset');
            sent += next.length;
            return { done: false, value: next };
          },
          cancel: async () => {},
        }),
      };
      return res;
    }
    return error(404, HttpErrorCode.notFound);
  };

  return { transport, uploads, files, log, patched, faults };
}

/** A Blob of `n` bytes 0, 1, 2, … (mod 251): every byte's position can be checked. */
export function bytesBlob(n: number): Blob {
  return new Blob([Uint8Array.from({ length: n }, (_, i) => i % 251)]);
}
