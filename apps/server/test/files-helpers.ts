import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import type { Config } from '../src/config.js';
import { filesDir } from '../src/files/file-parts.js';
import { type HttpResult, http } from './helpers.js';

/** Test files whose magic bytes say what they are. */
export const SAMPLES = {
  /** A PNG header with an IHDR of `w`×`h` (enough for the server's checks), then filler. */
  png(w = 640, h = 480, filler = 64): Buffer {
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(w, 8);
    ihdr.writeUInt32BE(h, 12);
    ihdr[16] = 8;
    ihdr[17] = 6;
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      ihdr,
      crypto.randomBytes(filler),
    ]);
  },
  pdf(filler = 200): Buffer {
    return Buffer.concat([Buffer.from('%PDF-1.7\n'), crypto.randomBytes(filler)]);
  },
  html: Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n'),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'),
};

export function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface UploadMeta {
  name: string;
  type: string;
  size: number;
  sha256?: string;
  thumb?: string;
}

export function createUpload(base: string, token: string, meta: UploadMeta): Promise<HttpResult> {
  return http(base, 'POST', '/api/uploads', meta, bearer(token));
}

/** A PATCH with `bytes` at `offset`. */
export async function patch(
  base: string,
  token: string,
  id: string,
  offset: number,
  bytes: Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(`${base}/api/uploads/${id}`, {
    method: 'PATCH',
    headers: {
      ...bearer(token),
      'content-type': 'application/offset+octet-stream',
      'upload-offset': String(offset),
      ...headers,
    },
    body: bytes,
  });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Creates an upload and sends all of it in one PATCH; expects 200 and returns the upload id. */
export async function uploadFile(
  base: string,
  token: string,
  name: string,
  type: string,
  bytes: Buffer,
  extra: Pick<UploadMeta, 'thumb'> = {},
): Promise<string> {
  const created = await createUpload(base, token, { name, type, size: bytes.length, ...extra });
  expect(created.status, created.text).toBe(201);
  const id = String(created.json!.id);
  const done = await patch(base, token, id, 0, bytes);
  expect(done.status, done.text).toBe(200);
  return id;
}

export async function head(base: string, token: string, id: string): Promise<Response> {
  return fetch(`${base}/api/uploads/${id}`, { method: 'HEAD', headers: bearer(token) });
}

export async function download(
  base: string,
  token: string | null,
  id: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(`${base}/api/files/${id}`, {
    method,
    headers: { ...(token ? bearer(token) : {}), ...headers },
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A PATCH over a raw socket that sends its headers and `first` bytes of the body, then
 * waits: the test decides whether it hangs up (a cut connection), sends more, or lets the
 * server time it out. `response` resolves with what the server wrote once it closes.
 */
export function rawPatch(
  port: number,
  token: string,
  id: string,
  offset: number,
  declaredLength: number,
  first: Buffer,
): { socket: net.Socket; response: Promise<string>; wrote: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let data = '';
  socket.on('data', (d) => {
    data += d.toString('latin1');
  });
  const response = new Promise<string>((resolve) => socket.on('close', () => resolve(data)));
  const wrote = new Promise<void>((resolve) => {
    socket.write(
      `PATCH /api/uploads/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/offset+octet-stream\r\nUpload-Offset: ${offset}\r\n` +
        `Content-Length: ${declaredLength}\r\n\r\n`,
    );
    socket.write(first, () => resolve());
  });
  return { socket, response, wrote };
}

/** Files in a directory tree (the local file store's partials and contents). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * What a server's blob store holds, on either engine: `partials` (uploads arriving) and
 * `contents` (sealed bytes). Files of the local directory, or rows and large objects of
 * the server's own database (each test server has a database of its own).
 */
export async function blobCounts(
  config: Pick<Config, 'databaseUrl' | 'fileStore' | 'filesDir' | 'dbPath'>,
): Promise<{ partials: number; contents: number }> {
  if (config.databaseUrl !== null && config.fileStore !== 'fs') {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ partials: number; objects: number }>(
        `SELECT (SELECT count(*) FROM upload_parts)::int AS partials,
                (SELECT count(*) FROM pg_largeobject_metadata)::int AS objects`,
      );
      const { partials, objects } = rows[0]!;
      // Every large object is a partial's or a content's.
      return { partials, contents: objects - partials };
    } finally {
      await client.end();
    }
  }
  const dir = filesDir(config);
  return {
    partials: filesUnder(path.join(dir, 'partial')).length,
    contents: filesUnder(path.join(dir, 'content')).length,
  };
}
