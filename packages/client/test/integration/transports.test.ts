import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JSDOM } from 'jsdom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlobLike,
  fetchTransport,
  type HttpTransport,
  type TransportResponse,
  xhrTransport,
} from '../../src/index.js';
import { nodeHttpTransport } from '../../src/node/index.js';

// The three file transports over a real socket (a small HTTP server that records what
// arrives): the body of a PATCH arrives whole with its Content-Length, upload progress ends at
// the size (and moves byte by byte where the platform can tell), answers stream, and an abort
// stops a request. XHR runs in jsdom, whose XMLHttpRequest does real HTTP.

interface Seen {
  method: string;
  length: string | undefined;
  bytes: number;
  auth: string | undefined;
}
const seen: Seen[] = [];
let server: Server;
let base = '';
const FILE = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));

function drain(req: IncomingMessage): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => resolve(n));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const bytes = await drain(req);
    seen.push({
      method: req.method ?? '',
      length: req.headers['content-length'],
      bytes,
      auth: req.headers.authorization,
    });
    if (req.url === '/slow') return; // never answers: the client must abort
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': FILE.length });
      // in pieces, so the answer really streams
      for (let at = 0; at < FILE.length; at += 65_536) res.write(FILE.subarray(at, at + 65_536));
      res.end();
      return;
    }
    res.writeHead(204, { 'upload-offset': String(bytes) });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// Created once the server listens: jsdom's XHR is same-origin, so its page lives at the server.
let jsdom: JSDOM;
beforeAll(() => {
  jsdom = new JSDOM('', { url: `${base}/` });
});
const transports: [string, () => HttpTransport, (bytes: Buffer) => BlobLike, boolean][] = [
  ['node:http', nodeHttpTransport, (b) => new Blob([b]), true],
  ['fetch', () => fetchTransport(), (b) => new Blob([b]), false],
  [
    'XMLHttpRequest (jsdom)',
    () => xhrTransport(jsdom.window.XMLHttpRequest),
    (b) => new jsdom.window.Blob([b]),
    false,
  ],
];

async function bodyOf(res: TransportResponse): Promise<Buffer> {
  const reader = res.body?.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const r = await reader?.read();
    if (!r || r.done) break;
    if (r.value) parts.push(r.value);
  }
  return Buffer.concat(parts);
}

describe.each(transports)('%s transport', (_name, make, blob, byteProgress) => {
  it('PATCH: the whole body with its Content-Length; progress ends at the size', async () => {
    const transport = make();
    const progress: number[] = [];
    const before = seen.length;
    const res = await transport({
      method: 'PATCH',
      url: `${base}/api/uploads/x`,
      headers: {
        authorization: 'Bearer t',
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
      },
      body: blob(FILE),
      onUploadProgress: (n) => progress.push(n),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Upload-Offset')).toBe(String(FILE.length));
    expect(seen[before]).toEqual({
      method: 'PATCH',
      length: String(FILE.length),
      bytes: FILE.length,
      auth: 'Bearer t',
    });
    expect(progress.at(-1)).toBe(FILE.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    if (byteProgress) expect(progress.length).toBeGreaterThan(2);
  });

  it('GET: the answer arrives in order; an abort rejects a request that hangs', async () => {
    const transport = make();
    const res = await transport({
      method: 'GET',
      url: `${base}/api/files/x`,
      headers: { authorization: 'Bearer t' },
    });
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).equals(FILE)).toBe(true);
    const controller = new AbortController();
    const pending = transport({
      method: 'POST',
      url: `${base}/slow`,
      headers: {},
      body: '{}',
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toBeTruthy();
  });
});
