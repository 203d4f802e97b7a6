import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpErrorCode } from '@pigeon/protocol';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Api } from './api.js';
import { isClientAbort } from './api-body.js';
import { type FileApi, fileRoute, isUploadBody } from './files-routes.js';
import { metricsAllowed } from './metrics-access.js';
import { armRequestDeadline } from './request-deadline.js';
import { sendError, sendJson, setSecurityHeaders } from './respond.js';
import type { StaticFiles } from './static-files.js';

/**
 * What the HTTP routes need of the server. The getters are read at each request: the API
 * exists only once the engines are open, and readiness changes while the server drains.
 */
export interface RequestDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly statics: StaticFiles;
  /** Listening and not draining. */
  ready(): boolean;
  /** Every engine this node needs is reachable (/healthz). */
  healthy(): Promise<boolean>;
  api(): Api | null;
  files(): FileApi | null;
}

/**
 * One HTTP request (not an upgrade): /healthz, /metrics, /api (files routes first), a
 * 426 for the WebSocket paths, else a static file of the web app.
 */
export async function handleRequest(
  deps: RequestDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  setSecurityHeaders(res);
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://x').pathname;
    // new URL() resolves dot segments; the static handler must see the raw path to refuse them.
    const raw = (req.url ?? '/').split('?')[0]!;
    if (raw.startsWith('/')) pathname = raw;
  } catch {
    sendError(res, 400, HttpErrorCode.badRequest, 'bad URL');
    return;
  }
  // Uploads' bodies get an idle timeout instead (files-routes.ts): a deadline for the whole
  // request would cut large files on slow links.
  if (!isUploadBody(req.method, pathname)) armRequestDeadline(req, deps.config.apiTimeoutSec * 2000);
  const route =
    pathname === '/healthz' || pathname === '/metrics'
      ? pathname.slice(1)
      : pathname === '/api' || pathname.startsWith('/api/')
        ? 'api'
        : 'static';
  res.once('finish', () => deps.metrics.httpRequests.labels(route, String(res.statusCode)).inc());
  try {
    if (pathname === '/healthz') {
      // 503 while draining, and while an engine this node needs is unreachable.
      if (deps.ready() && (await deps.healthy())) sendJson(res, 200, { ok: true });
      else sendJson(res, 503, { ok: false });
      return;
    }
    if (pathname === '/metrics') {
      if (!metricsAllowed(req, deps.config)) {
        sendError(
          res,
          403,
          HttpErrorCode.forbidden,
          'metrics are not open to this address; use the bearer token',
        );
        return;
      }
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, {
        'Content-Type': deps.metrics.registry.contentType,
        'Cache-Control': 'no-store',
      });
      res.end(text);
      return;
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      const api = deps.api();
      if (!api || !deps.ready()) {
        sendError(res, 503, HttpErrorCode.unavailable, 'the server is not ready');
        return;
      }
      const files = fileRoute(pathname);
      const fileApi = deps.files();
      if (files && fileApi) {
        await fileApi.routes.handle(req, res, files);
        return;
      }
      await api.handle(req, res, pathname);
      return;
    }
    if (pathname === '/ws' || pathname === '/legacy') {
      sendError(res, 426, HttpErrorCode.upgradeRequired, 'this endpoint speaks WebSocket', {
        Upgrade: 'websocket',
      });
      return;
    }
    await deps.statics.serve(req, res, pathname);
  } catch (err) {
    // A client that hung up mid-response is not a server error.
    if (isClientAbort(err)) deps.log.debug({ err: (err as Error).message }, 'client went away');
    else deps.log.error({ err }, 'request failed');
    if (!res.headersSent) sendError(res, 500, HttpErrorCode.internal, 'internal error');
    else res.destroy();
  }
}
