/// <reference types="node" />
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClientErrorCode, PigeonHttpError } from '../errors.js';
import type { ByteReader, HttpTransport, TransportResponse } from '../file-types.js';

/** Bytes read from a Blob and written at a time: memory stays bounded whatever the file's size. */
const PIECE = 64 * 1024;

function reader(res: IncomingMessage): ByteReader {
  const it = res[Symbol.asyncIterator]();
  return {
    async read() {
      const next = await it.next();
      if (next.done) return { done: true };
      const chunk: Buffer = next.value;
      return { done: false, value: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) };
    },
    async cancel() {
      res.destroy();
    },
  };
}

function answer(res: IncomingMessage): TransportResponse {
  let body: ByteReader | null = null;
  return {
    status: res.statusCode ?? 0,
    headers: {
      get(name) {
        const value = res.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : (value ?? null);
      },
    },
    async text() {
      const parts: Buffer[] = [];
      for await (const chunk of res) parts.push(chunk);
      return Buffer.concat(parts).toString('utf8');
    },
    body: {
      getReader() {
        body ??= reader(res);
        return body;
      },
    },
  };
}

/**
 * The file API over `node:http(s)`: the request body (a Blob, e.g. from `fs.openAsBlob`) is
 * streamed in 64 KiB pieces with `Content-Length` set and backpressure respected, and upload
 * progress counts the bytes the socket took, piece by piece. The answer streams too.
 */
export function nodeHttpTransport(): HttpTransport {
  return (req) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const url = new URL(req.url);
      const headers: Record<string, string> = { ...req.headers };
      const body = req.body;
      if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
      else if (body) headers['content-length'] = String(body.size);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const r = send(url, { method: req.method, headers }, (res) => resolve(answer(res)));
      const onAbort = () => r.destroy(new PigeonHttpError(0, ClientErrorCode.aborted, 'aborted'));
      req.signal?.addEventListener('abort', onAbort);
      r.on('close', () => req.signal?.removeEventListener('abort', onAbort));
      r.on('error', reject);
      if (req.signal?.aborted) return onAbort();
      if (body === undefined || typeof body === 'string') {
        r.end(body);
        return;
      }
      void (async () => {
        let sent = 0;
        for (let at = 0; at < body.size && !r.destroyed; at += PIECE) {
          const piece = Buffer.from(await body.slice(at, Math.min(body.size, at + PIECE)).arrayBuffer());
          await new Promise<void>((done, fail) => {
            r.write(piece, (err) => {
              if (err) return fail(err);
              sent += piece.length;
              req.onUploadProgress?.(sent);
              done();
            });
          });
        }
        r.end();
      })().catch((err: unknown) => r.destroy(err instanceof Error ? err : new Error(String(err))));
    });
}
