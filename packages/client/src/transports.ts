import { ClientErrorCode, PigeonHttpError } from './errors.js';
import type {
  BlobLike,
  ByteReader,
  HttpTransport,
  TransportRequest,
  TransportResponse,
} from './file-types.js';
import { decodeUtf8, globalRawFetch, type RawFetch } from './runtime.js';

// The two HTTP transports of the core, for the file API (uploads and downloads). Node adds
// its own in node/http-transport.ts (byte-level upload progress without a browser).

/**
 * Over `fetch` (the platform's by default): streams the request body (a Blob is sent as it
 * is) and the answer, but `fetch` cannot tell how much of a body went out, so upload progress
 * is reported once, when the request completed.
 */
export function fetchTransport(fetchImpl: RawFetch | undefined = globalRawFetch()): HttpTransport {
  return async (req) => {
    if (!fetchImpl) throw new PigeonHttpError(0, ClientErrorCode.unreachable, 'no fetch available');
    const init: Parameters<RawFetch>[1] = { method: req.method, headers: req.headers };
    if (req.body !== undefined) init.body = req.body;
    if (req.signal) init.signal = req.signal;
    const res = await fetchImpl(req.url, init);
    if (req.onUploadProgress && typeof req.body === 'object') req.onUploadProgress(req.body.size);
    return res;
  };
}

/**
 * The part of `XMLHttpRequest` the XHR transport uses. Handlers take `never` so that the DOM's
 * own (typed with `ProgressEvent`) fit here without DOM types in the core.
 */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body?: unknown): void;
  abort(): void;
  readonly status: number;
  responseType: string;
  readonly response: unknown;
  getResponseHeader(name: string): string | null;
  onload: ((event: never) => unknown) | null;
  onerror: ((event: never) => unknown) | null;
  onabort: ((event: never) => unknown) | null;
  ontimeout: ((event: never) => unknown) | null;
  readonly upload: { onprogress: ((event: never) => unknown) | null };
}

function oneChunk(bytes: Uint8Array): { getReader(): ByteReader } {
  return {
    getReader() {
      let done = false;
      return {
        read: async () => {
          if (done) return { done: true };
          done = true;
          return { done: false, value: bytes };
        },
        cancel: async () => {
          done = true;
        },
      };
    },
  };
}

/**
 * Over `XMLHttpRequest`, the one browser API that reports upload progress as bytes go out
 * (`xhr.upload.onprogress`). The answer of a GET arrives whole (as an ArrayBuffer).
 */
export function xhrTransport(XHR: new () => XhrLike): HttpTransport {
  return (req: TransportRequest) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const xhr = new XHR();
      xhr.open(req.method, req.url);
      for (const [name, value] of Object.entries(req.headers)) xhr.setRequestHeader(name, value);
      xhr.responseType = req.method === 'GET' ? 'arraybuffer' : 'text';
      const onAbort = () => xhr.abort();
      req.signal?.addEventListener('abort', onAbort);
      const fail = (why: string) => () => {
        req.signal?.removeEventListener('abort', onAbort);
        reject(new PigeonHttpError(0, ClientErrorCode.unreachable, `${req.method} ${req.url}: ${why}`));
      };
      xhr.onerror = fail('network error');
      xhr.ontimeout = fail('timed out');
      xhr.onabort = () => {
        req.signal?.removeEventListener('abort', onAbort);
        reject(new PigeonHttpError(0, ClientErrorCode.aborted, `${req.method} ${req.url}: aborted`));
      };
      const progress = req.onUploadProgress;
      if (progress) xhr.upload.onprogress = (e: { loaded: number }) => progress(e.loaded);
      xhr.onload = () => {
        req.signal?.removeEventListener('abort', onAbort);
        const response = xhr.response;
        const text = typeof response === 'string' ? response : '';
        const bytes = response instanceof ArrayBuffer ? new Uint8Array(response) : null;
        resolve({
          status: xhr.status,
          headers: { get: (name) => xhr.getResponseHeader(name) },
          text: async () => (bytes ? decodeUtf8(bytes) : text),
          body: bytes ? oneChunk(bytes) : null,
        });
      };
      if (req.signal?.aborted) {
        xhr.abort();
        return;
      }
      const body: string | BlobLike | undefined = req.body;
      xhr.send(body);
    });
}
