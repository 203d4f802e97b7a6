import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { HttpErrorCode } from '@pigeon/protocol';
import send from 'send';
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

/** Precompressed siblings a build may emit (`app.js.br`, `app.js.gz`), best first. */
const ENCODINGS = [
  { token: 'br', suffix: '.br', name: 'br' },
  { token: 'gzip', suffix: '.gz', name: 'gzip' },
] as const;

/**
 * The built single-page app: files under the web root, `index.html` for any other path
 * (except under /assets/, where a missing file is a real 404), and a plain page saying
 * how to build when there is no build. The bytes go out through `send` (the file server
 * under Express's serve-static): streaming, strong validators (ETag, Last-Modified, 304),
 * single ranges (206/416, If-Range). We pick the precompressed variant ourselves, because
 * `send` serves one path as it is; each variant has its own ETag and `Vary` says why.
 */
export class StaticFiles {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, HttpErrorCode.methodNotAllowed, 'only GET and HEAD', { Allow: 'GET, HEAD' });
      return;
    }
    const rel = safeRelative(pathname);
    if (rel === null) {
      sendError(res, 400, HttpErrorCode.badRequest, 'bad path');
      return;
    }
    if (!(await isFile(path.join(this.root, 'index.html')))) {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(NOT_BUILT),
        'Cache-Control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
      return;
    }
    let target = 'index.html';
    if (rel !== '') {
      const file = path.join(this.root, rel);
      if (file.startsWith(this.root + path.sep) && (await isFile(file))) target = rel;
      else if (rel.startsWith('assets/')) {
        sendError(res, 404, HttpErrorCode.notFound, 'no such file');
        return;
      }
    }
    await this.sendFile(req, res, target);
  }

  private async sendFile(req: IncomingMessage, res: ServerResponse, rel: string): Promise<void> {
    const type = MIME[path.extname(rel).toLowerCase()] ?? 'application/octet-stream';
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
    let served = rel;
    const accept = String(req.headers['accept-encoding'] ?? '');
    let variants = false;
    for (const enc of ENCODINGS) {
      if (!(await isFile(path.join(this.root, rel + enc.suffix)))) continue;
      variants = true;
      if (served === rel && acceptsEncoding(accept, enc.token)) {
        served = rel + enc.suffix;
        res.setHeader('Content-Encoding', enc.name);
      }
    }
    if (variants) res.setHeader('Vary', 'Accept-Encoding');
    await new Promise<void>((resolve) => {
      const stream = send(req, `/${served.split('/').map(encodeURIComponent).join('/')}`, {
        root: this.root,
        // Our own Cache-Control above; hidden files were refused by safeRelative already.
        cacheControl: false,
        dotfiles: 'deny',
        index: false,
      });
      stream.on('error', (err: { status?: number }) => {
        if (!res.headersSent) {
          res.removeHeader('Content-Encoding');
          res.removeHeader('Vary');
          sendError(res, err.status === 416 ? 416 : 404, HttpErrorCode.notFound, 'no such file');
        } else res.destroy();
        resolve();
      });
      res.once('close', () => resolve());
      stream.pipe(res);
    });
  }
}

/** Whether an Accept-Encoding header accepts `token` (present, and not with q=0). */
function acceptsEncoding(header: string, token: string): boolean {
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (name.trim() !== token) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
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
