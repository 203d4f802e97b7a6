import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode, LIMITS, parseUserId } from '@pigeon/protocol';
import { WebSocketServer } from 'ws';
import { RateLimiter } from './auth/rate-limiter.js';
import { TokenService } from './auth/tokens.js';
import { type Config, loadConfig } from './config.js';
import { type Engines, openEngines } from './engines.js';
import { Api } from './http/api.js';
import { originAllowed } from './http/origin.js';
import { sendError, sendJson, setSecurityHeaders } from './http/respond.js';
import { StaticFiles } from './http/static-files.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import type { Store } from './store/store.js';
import { ClientConnection } from './ws/client-connection.js';
import { LegacyConnection } from './ws/legacy-connection.js';
import type { ConnectionContext, MailboxConnection } from './ws/mailbox-connection.js';
import { Relay } from './ws/relay.js';

export interface PigeonServer {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Opens the store and starts listening; resolves with the bound port and a URL to reach it. */
  listen(): Promise<{ port: number; url: string }>;
  /** Graceful shutdown: /healthz 503, no new connections, pending commits finished, sockets closed 1001, store closed. */
  close(): Promise<void>;
  /** Runs the retention sweep now; resolves with the number of entries removed. */
  sweepRetention(): Promise<number>;
}

type Phase = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';

/**
 * Creates a server from the defaults plus `overrides` (the environment is not read here;
 * `main.ts` passes `loadConfig(process.env)`).
 */
export function createPigeonServer(overrides: Partial<Config> = {}): PigeonServer {
  const config: Config = { ...loadConfig({}), ...overrides };
  return new Server(config);
}

class Server implements PigeonServer {
  readonly metrics = new Metrics();
  readonly log: Logger;
  private phase: Phase = 'idle';
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private engines: Engines | null = null;
  private store: Store | null = null;
  private relay: Relay | null = null;
  private api: Api | null = null;
  private ctx: ConnectionContext | null = null;
  private readonly statics: StaticFiles;
  private readonly connections = new Set<MailboxConnection>();
  private timers: NodeJS.Timeout[] = [];
  private authLimiter: RateLimiter;
  private closing: Promise<void> | null = null;

  constructor(readonly config: Config) {
    this.log = createLogger(config.logLevel);
    this.statics = new StaticFiles(config.webRoot);
    this.authLimiter = new RateLimiter(config.authRate, config.authRate / 60);
    this.http = http.createServer((req, res) => void this.onRequest(req, res));
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  async listen(): Promise<{ port: number; url: string }> {
    if (this.phase !== 'idle') throw new Error('listen() was already called');
    this.phase = 'starting';
    const { config, log } = this;
    const engines = await openEngines(config, { metrics: this.metrics, log });
    const { store, router, presence, sendLimiter, secret } = engines;
    this.engines = engines;
    const relay = new Relay({ store, router, limiter: sendLimiter, metrics: this.metrics, log });
    const tokens = new TokenService(secret, config.tokenTtlSec, config.jwtSecret);
    this.store = store;
    this.relay = relay;
    this.api = new Api({
      store,
      tokens,
      authLimiter: this.authLimiter,
      trustProxy: config.trustProxy,
      scryptCost: config.scryptCost,
      metrics: this.metrics,
      log,
    });
    this.ctx = {
      config,
      store,
      router,
      presence,
      relay,
      tokens,
      metrics: this.metrics,
      log,
      connections: this.connections,
    };
    if (config.legacy) {
      log.warn(
        'PIGEON_LEGACY=1: the /legacy endpoint trusts the user id it is given, with no password; use it on trusted networks only',
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(config.port, config.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const port = (this.http.address() as AddressInfo).port;
    this.phase = 'ready';
    this.startTimers();
    log.info(
      {
        port,
        host: config.host,
        db: engines.describe.store === 'sqlite' ? config.dbPath : 'postgres',
        ...engines.describe,
        legacy: config.legacy,
        jwt: config.jwtSecret !== null,
      },
      'listening',
    );
    const host =
      config.host === '0.0.0.0' || config.host === ''
        ? '127.0.0.1'
        : config.host === '::'
          ? '[::1]'
          : config.host;
    return {
      port,
      url: `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
    };
  }

  private startTimers(): void {
    const ping = setInterval(() => {
      for (const c of this.connections) {
        if (!c.alive) {
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        try {
          c.ws.ping();
        } catch {
          c.ws.terminate();
        }
      }
    }, this.config.pingIntervalMs);
    const sweep = setInterval(() => void this.sweepRetention(), this.config.retentionSweepMs);
    const prune = setInterval(() => this.authLimiter.prune(Date.now()), 60_000);
    for (const t of [ping, sweep, prune]) t.unref();
    this.timers.push(ping, sweep, prune);
    setImmediate(() => void this.sweepRetention());
  }

  async sweepRetention(): Promise<number> {
    if (!this.store || this.phase !== 'ready') return 0;
    try {
      const removed = await this.store.sweepRetention(Date.now());
      if (removed > 0) this.log.info({ removed }, 'retention removed entries');
      return removed;
    } catch (err) {
      this.log.error({ err }, 'retention sweep failed');
      return 0;
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
      // new URL() resolves dot segments; the static handler must see the raw path to refuse them.
      const raw = (req.url ?? '/').split('?')[0]!;
      if (raw.startsWith('/')) pathname = raw;
    } catch {
      sendError(res, 400, 'bad_request', 'bad URL');
      return;
    }
    const route =
      pathname === '/healthz' || pathname === '/metrics'
        ? pathname.slice(1)
        : pathname === '/api' || pathname.startsWith('/api/')
          ? 'api'
          : 'static';
    res.once('finish', () => this.metrics.httpRequests.labels(route, String(res.statusCode)).inc());
    try {
      if (pathname === '/healthz') {
        // 503 while draining, and while an engine this node needs is unreachable.
        if (this.phase === 'ready' && (await this.engines?.healthy())) sendJson(res, 200, { ok: true });
        else sendJson(res, 503, { ok: false });
        return;
      }
      if (pathname === '/metrics') {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, {
          'Content-Type': this.metrics.registry.contentType,
          'Cache-Control': 'no-store',
        });
        res.end(text);
        return;
      }
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        if (!this.api || this.phase !== 'ready') {
          sendError(res, 503, 'unavailable', 'the server is not ready');
          return;
        }
        await this.api.handle(req, res, pathname);
        return;
      }
      if (pathname === '/ws' || pathname === '/legacy') {
        sendError(res, 426, 'upgrade_required', 'this endpoint speaks WebSocket', { Upgrade: 'websocket' });
        return;
      }
      await this.statics.serve(req, res, pathname);
    } catch (err) {
      this.log.error({ err }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
      else res.destroy();
    }
  }

  private reject(socket: Duplex, status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: code, message });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const ctx = this.ctx;
    if (this.phase !== 'ready' || !ctx) {
      this.reject(socket, 503, 'unavailable', 'the server is not accepting connections');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      this.reject(socket, 400, 'bad_request', 'bad URL');
      return;
    }
    const legacy = url.pathname === '/legacy' && this.config.legacy;
    if (url.pathname !== '/ws' && !legacy) {
      this.reject(socket, 404, 'not_found', 'no WebSocket endpoint here');
      return;
    }
    if (!originAllowed(req, this.config.origins)) {
      this.reject(socket, 403, 'forbidden_origin', 'this Origin may not open a socket here');
      return;
    }
    let legacyUser: string | null = null;
    if (legacy) {
      legacyUser = parseUserId(url.searchParams.get('user') ?? '');
      if (!legacyUser) {
        this.reject(socket, 400, 'invalid_user', 'user id: 1-32 of a-z 0-9 _ . -');
        return;
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.phase !== 'ready') {
        ws.close(CloseCode.goingAway, 'shutting down');
        return;
      }
      if (legacyUser) {
        const conn = new LegacyConnection(ws, ctx);
        void conn.start(legacyUser).catch((err) => {
          this.log.error({ err }, 'legacy connect failed');
          conn.close(1011, 'internal error');
        });
      } else {
        new ClientConnection(ws, ctx);
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.phase === 'idle') {
      this.phase = 'stopped';
      return;
    }
    this.phase = 'stopping';
    this.log.info({ connections: this.connections.size }, 'shutting down');
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // HTTP keeps answering while sockets close (/healthz says 503, upgrades are refused)
    // so a load balancer sees the drain. Finish what was submitted: every send that will
    // get `sent` is committed first.
    await this.relay?.drain();
    const open = [...this.connections];
    await Promise.all(
      open.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === c.ws.CLOSED) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, this.config.shutdownGraceMs);
            c.ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            c.close(CloseCode.goingAway, 'server shutting down');
          }),
      ),
    );
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await httpClosed;
    await this.relay?.drain();
    this.relay?.close();
    await this.engines?.close();
    this.phase = 'stopped';
    this.log.info('stopped');
  }
}
