import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpErrorCode, MESSAGE_ID_PATTERN } from '@pigeon/protocol';
import type { Session, Sessions } from '../auth/sessions.js';
import type { Config } from '../config.js';
import { FileMetrics } from '../files/file-metrics.js';
import type { FileParts } from '../files/file-parts.js';
import { FileService } from '../files/file-service.js';
import { UploadError } from '../files/upload-errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { bearer, HttpError, isClientAbort, readJson, requireJson } from './api-body.js';
import { sendFile } from './files-download.js';
import { requestChunks } from './request-body.js';
import { sendError, sendJson } from './respond.js';

interface FileRoutesDeps {
  files: FileService;
  sessions: Sessions;
  /** A JSON body (`POST /api/uploads`) must be complete within this many ms. */
  bodyTimeoutMs: number;
  /** An upload's bytes may pause at most this long before the request is cut (408). */
  idleMs: number;
  metrics: Metrics;
  fileMetrics: FileMetrics;
  log: Logger;
}

/** The files API of a node: the routes, and the service behind them (its sweep, its close). */
export interface FileApi {
  routes: FileRoutes;
  service: FileService;
}

/** Builds the files API from config and the engines' file parts. */
export function createFileApi(deps: {
  config: Config;
  parts: FileParts;
  sessions: Sessions;
  metrics: Metrics;
  log: Logger;
}): FileApi {
  const { config, parts, metrics, log } = deps;
  const fileMetrics = new FileMetrics(metrics.registry, () => parts.catalog.usage());
  const service = new FileService({
    catalog: parts.catalog,
    blobs: parts.blobs,
    limiter: parts.uploadLimiter,
    metrics: fileMetrics,
    log,
    clock: config.clock,
    fileMax: config.fileMax,
    fileQuota: config.fileQuota,
    uploadTtlMs: config.uploadTtlSec * 1000,
  });
  const routes = new FileRoutes({
    files: service,
    sessions: deps.sessions,
    bodyTimeoutMs: config.apiTimeoutSec * 1000,
    // The whole-request deadline of other requests, as a pause instead: bytes keep coming
    // on a slow link however long the file takes.
    idleMs: config.apiTimeoutSec * 2000,
    metrics,
    fileMetrics,
    log,
  });
  return { routes, service };
}

/** The media type of PATCH bodies (tus): bytes to add at `Upload-Offset`. */
const OFFSET_STREAM = 'application/offset+octet-stream';

type Route = { kind: 'uploads' } | { kind: 'upload'; id: string } | { kind: 'file'; id: string };

/** `/api/uploads`, `/api/uploads/ID`, `/api/files/ID`: the files API, or null. */
export function fileRoute(pathname: string): Route | null {
  if (pathname === '/api/uploads') return { kind: 'uploads' };
  const m = /^\/api\/(uploads|files)\/([^/]*)$/.exec(pathname);
  if (!m) return null;
  return m[1] === 'uploads' ? { kind: 'upload', id: m[2]! } : { kind: 'file', id: m[2]! };
}

/** True for the requests whose body is a file's bytes (they get an idle timeout, not a deadline). */
export function isUploadBody(method: string | undefined, pathname: string): boolean {
  return method === 'PATCH' && fileRoute(pathname)?.kind === 'upload';
}

const METHODS: Record<Route['kind'], string[]> = {
  uploads: ['POST'],
  upload: ['PATCH', 'HEAD', 'DELETE'],
  file: ['GET', 'HEAD'],
};

/**
 * The HTTP side of attachments (PROTOCOL.md "Files"): resumable uploads and downloads.
 * Checks run in the order of "Sessions": 404, 405, 415, 401, 413/408, 400, then the
 * endpoint's own (the upload bucket is per user, so it comes after the token).
 */
class FileRoutes {
  constructor(private readonly deps: FileRoutesDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    try {
      if (route.kind !== 'uploads' && !MESSAGE_ID_PATTERN.test(route.id)) {
        throw new HttpError(404, HttpErrorCode.notFound, 'no such file');
      }
      const allowed = METHODS[route.kind];
      if (!allowed.includes(req.method ?? '')) {
        throw new HttpError(405, HttpErrorCode.methodNotAllowed, `use ${allowed.join(', ')}`, {
          Allow: allowed.join(', '),
        });
      }
      if (route.kind === 'uploads') requireJson(req);
      if (req.method === 'PATCH' && !isOffsetStream(req.headers['content-type'])) {
        throw new HttpError(415, HttpErrorCode.unsupportedMediaType, `the body must be ${OFFSET_STREAM}`);
      }
      const session = await this.session(req);
      switch (route.kind) {
        case 'uploads':
          return await this.create(req, res, session);
        case 'upload':
          if (req.method === 'PATCH') return await this.append(req, res, session, route.id);
          if (req.method === 'HEAD') return await this.status(res, session, route.id);
          return await this.remove(res, session, route.id);
        case 'file':
          return await this.download(req, res, session, route.id);
      }
    } catch (err) {
      this.fail(res, err, route);
    }
  }

  private fail(res: ServerResponse, err: unknown, route: Route): void {
    if (err instanceof HttpError) {
      this.deps.metrics.errors.labels(err.code).inc();
      if (res.headersSent) return void res.destroy();
      if (err instanceof UploadError) {
        sendJson(res, err.status, { error: err.code, message: err.message, ...err.extra }, err.headers);
      } else sendError(res, err.status, err.code, err.message, err.headers);
      return;
    }
    if (isClientAbort(err)) {
      this.deps.log.debug({ err: (err as Error).message, route: route.kind }, 'client went away mid-request');
      res.destroy();
      return;
    }
    this.deps.log.error({ err }, 'files request failed');
    this.deps.metrics.errors.labels(HttpErrorCode.internal).inc();
    if (!res.headersSent)
      sendError(res, 500, HttpErrorCode.internal, 'internal error', { Connection: 'close' });
    else res.destroy();
  }

  private async session(req: IncomingMessage): Promise<Session> {
    const token = bearer(req);
    const session = token === null ? null : await this.deps.sessions.check(token);
    // A host application's JWT is accepted here: its users attach files like anyone.
    if (!session) throw new HttpError(401, HttpErrorCode.unauthorized, 'a valid session token is required');
    return session;
  }

  private async create(req: IncomingMessage, res: ServerResponse, session: Session): Promise<void> {
    const body = await readJson(req, this.deps.bodyTimeoutMs);
    const created = await this.deps.files.create(session.user, body);
    sendJson(res, 201, created, { Location: `/api/uploads/${created.id}` });
  }

  private async status(res: ServerResponse, session: Session, id: string): Promise<void> {
    const { offset, length } = await this.deps.files.status(session.user, id);
    res.writeHead(200, {
      'Upload-Offset': String(offset),
      'Upload-Length': String(length),
      'Cache-Control': 'no-store',
    });
    res.end();
  }

  private async append(
    req: IncomingMessage,
    res: ServerResponse,
    session: Session,
    id: string,
  ): Promise<void> {
    const header = req.headers['upload-offset'];
    const offset = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header) : null;
    if (offset === null) {
      throw new HttpError(400, HttpErrorCode.badRequest, 'Upload-Offset must be a whole number of bytes', {
        Connection: 'close',
      });
    }
    const started = process.hrtime.bigint();
    let body: ReturnType<typeof requestChunks> | null = null;
    let result = 'failed';
    try {
      const answer = await this.deps.files.append(session.user, id, offset, (stop) => {
        body = requestChunks(req, this.deps.idleMs, stop);
        return body;
      });
      const stopped = (body as ReturnType<typeof requestChunks> | null)?.stopped ?? null;
      if (stopped === 'stopped') {
        // A newer request for this upload took over: this client gave up on this one.
        result = 'replaced';
        req.destroy();
        return;
      }
      if (answer.kind === 'complete') {
        result = 'complete';
        sendJson(res, 200, answer.answer);
        return;
      }
      if (stopped === 'idle') {
        result = 'idle';
        throw new HttpError(408, HttpErrorCode.timeout, `no bytes arrived for ${this.deps.idleMs} ms`, {
          Connection: 'close',
          'Upload-Offset': String(answer.offset),
        });
      }
      result = 'partial';
      res.writeHead(204, { 'Upload-Offset': String(answer.offset), 'Cache-Control': 'no-store' });
      res.end();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.deps.fileMetrics.uploadSeconds.labels(result).observe(seconds);
    }
  }

  private async remove(res: ServerResponse, session: Session, id: string): Promise<void> {
    await this.deps.files.remove(session.user, id);
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  private async download(
    req: IncomingMessage,
    res: ServerResponse,
    session: Session,
    id: string,
  ): Promise<void> {
    const { fileMetrics } = this.deps;
    let file: Awaited<ReturnType<FileService['download']>>;
    try {
      file = await this.deps.files.download(session.user, id);
    } catch (err) {
      if (err instanceof HttpError) fileMetrics.downloads.labels(String(err.status)).inc();
      throw err;
    }
    await sendFile(req, res, file, (start, end) => this.deps.files.read(file, start, end), fileMetrics);
  }
}

function isOffsetStream(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === OFFSET_STREAM;
}
