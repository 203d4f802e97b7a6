import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { sendError } from './respond.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Hashed build output: safe to cache for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Pigeon</title></head>
<body>
<h1>Pigeon is running</h1>
<p>The web app is not built yet. Run <code>npm run build</code> in the repository, then reload this page.</p>
<p>The API is at <code>/api</code>, the WebSocket at <code>/ws</code>, health at <code>/healthz</code>.</p>
</body>
</html>
`;

/**
 * The built single-page app: files under the web root, `index.html` for any other path
 * (except under /assets/, where a missing file is a real 404), and a plain page saying
 * how to build when there is no build.
 */
export class StaticFiles {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'only GET and HEAD', { Allow: 'GET, HEAD' });
      return;
    }
    const rel = safeRelative(pathname);
    if (rel === null) {
      sendError(res, 400, 'bad_request', 'bad path');
      return;
    }
    const index = path.join(this.root, 'index.html');
    if (!(await isFile(index))) {
      this.send(req, res, 200, 'text/html; charset=utf-8', 'no-cache', Buffer.from(NOT_BUILT));
      return;
    }
    if (rel !== '') {
      const file = path.join(this.root, rel);
      if (file.startsWith(this.root + path.sep) && (await isFile(file))) {
        const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
        const cache = rel.startsWith('assets/') ? IMMUTABLE : 'no-cache';
        await this.sendFile(req, res, file, type, cache);
        return;
      }
      if (rel.startsWith('assets/')) {
        sendError(res, 404, 'not_found', 'no such file');
        return;
      }
    }
    await this.sendFile(req, res, index, MIME['.html']!, 'no-cache');
  }

  private async sendFile(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    type: string,
    cache: string,
  ): Promise<void> {
    const body = await fs.promises.readFile(file);
    this.send(req, res, 200, type, cache, body);
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    cache: string,
    body: Buffer,
  ) {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The request path as a relative path inside the web root ('' for the root), or null for
 * anything that could step outside it: `..` segments (also percent-encoded, also with
 * backslashes), NUL bytes, malformed escapes.
 */
export function safeRelative(pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return null;
  // Hidden files (.env, .git) are never served: such paths get the app like any unknown path.
  if (segments.some((s) => s.startsWith('.'))) return '';
  return segments.join('/');
}
