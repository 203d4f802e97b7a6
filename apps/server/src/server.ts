// Over ~300 lines on purpose: the lifecycle's steps read and move the same state (phase,
// engines, relay, connections, timers) in a fixed order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode, LIMITS } from '@pigeon/protocol';
import { RateLimiter } from './auth/rate-limiter.js';
import { checkSecret } from './auth/secret.js';
import { Sessions } from './auth/sessions.js';
import { TokenService } from './auth/tokens.js';
import { type Config, loadConfig } from './config.js';
import { type Engines, openEngines } from './engines.js';
import { Api } from './http/api.js';
import { createFileApi, type FileApi } from './http/files-routes.js';
import { handleRequest, type RequestDeps } from './http/request-handler.js';
import { StaticFiles } from './http/static-files.js';
import type { Limiter } from './limiter/limiter.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import type { Store } from './store/store.js';
import { ClientConnection } from './ws/client-connection.js';
import { ConnectionLimits } from './ws/connection-limits.js';
import type { ConnectionContext, MailboxConnection } from './ws/mailbox-connection.js';
import { ReadScheduler } from './ws/read-scheduler.js';
import { Relay } from './ws/relay.js';
import { TypingThrottle } from './ws/typing-throttle.js';
import { Upgrades } from './ws/upgrade.js';

/*
 * The server's lifecycle: open the engines, listen, the timers (pings, session re-checks,
 * retention), graceful shutdown. HTTP routes are in http/request-handler.ts, WebSocket
 * upgrades in ws/upgrade.ts.
 */

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
  /**
   * Re-checks the token of every open connection against the store and closes those whose
   * token was revoked (on another node, say) with 4001; resolves with how many. Runs every
   * ping interval by itself.
   */
  recheckSessions(): Promise<number>;
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
  private engines: Engines | null = null;
  private store: Store | null = null;
  private relay: Relay | null = null;
  private api: Api | null = null;
  private files: FileApi | null = null;
  private ctx: ConnectionContext | null = null;
  private readonly statics: StaticFiles;
  private readonly routes: RequestDeps;
  private readonly upgrades: Upgrades;
  private readonly connections = new Set<MailboxConnection>();
  private timers: NodeJS.Timeout[] = [];
  private authLimiter: Limiter | null = null;
  private readonly limits: ConnectionLimits;
  private readonly reads: ReadScheduler;
  private readonly frames: RateLimiter;
  private closing: Promise<void> | null = null;

  constructor(readonly config: Config) {
    this.log = createLogger(config.logLevel);
    this.statics = new StaticFiles(config.webRoot);
    this.limits = new ConnectionLimits(config, this.metrics);
    this.reads = new ReadScheduler({ rate: config.readRate, clock: config.clock });
    this.frames = new RateLimiter(config.frameRate * 2, config.frameRate);
    // What the HTTP routes and the upgrades read of this server, per request.
    this.routes = {
      config,
      metrics: this.metrics,
      log: this.log,
      statics: this.statics,
      ready: () => this.phase === 'ready',
      healthy: async () => (await this.engines?.healthy()) ?? false,
      api: () => this.api,
      files: () => this.files,
    };
    this.upgrades = new Upgrades({
      config,
      metrics: this.metrics,
      log: this.log,
      limits: this.limits,
      ready: () => this.phase === 'ready',
      ctx: () => this.ctx,
    });
    const timeoutMs = config.apiTimeoutSec * 1000;
    this.http = http.createServer(
      {
        // Node's defaults hold a trickling client for a minute (headers) or five (body).
        headersTimeout: timeoutMs,
        // The whole-request deadline (2× the timeout) is set per request in onRequest:
        // Node's is server-wide and would cut uploads of large files on slow links.
        requestTimeout: 0,
        // How often those two are checked (default 30 s, longer than the timeouts).
        connectionsCheckingInterval: Math.min(1000, timeoutMs),
      },
      (req, res) => void handleRequest(this.routes, req, res),
    );
    this.http.on('upgrade', (req, socket, head) => this.upgrades.handle(req, socket, head));
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Headers that did not arrive within PIGEON_API_TIMEOUT: say so, then hang up.
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
  }

  async listen(): Promise<{ port: number; url: string }> {
    if (this.phase !== 'idle') throw new Error('listen() was already called');
    this.phase = 'starting';
    const { config, log } = this;
    const engines = await openEngines(config, { metrics: this.metrics, log });
    const { store, router, presence, sendLimiter, authLimiter, secret } = engines;
    this.authLimiter = authLimiter;
    this.engines = engines;
    const relay = new Relay({
      store,
      router,
      limiter: sendLimiter,
      metrics: this.metrics,
      log,
      now: config.clock,
    });
    const tokens = new TokenService({
      secret: checkSecret('PIGEON_SECRET', secret),
      ttlSec: config.tokenTtlSec,
      hostSecret: config.jwtSecret === null ? null : checkSecret('PIGEON_JWT_SECRET', config.jwtSecret),
      hostMaxTtlSec: config.jwtMaxTtlSec,
      clock: config.clock,
    });
    const sessions = new Sessions(tokens, store);
    this.store = store;
    this.relay = relay;
    this.api = new Api({
      store,
      sessions,
      authLimiter,
      trustProxy: config.trustProxy,
      scryptCost: config.scryptCost,
      bodyTimeoutMs: config.apiTimeoutSec * 1000,
      closeRevoked: (user, drop, epoch) => this.closeRevoked(user, drop, epoch),
      clock: config.clock,
      metrics: this.metrics,
      log,
    });
    this.files = createFileApi({
      config,
      parts: engines.files,
      sessions,
      metrics: this.metrics,
      log,
    });
    this.ctx = {
      config,
      store,
      router,
      presence,
      relay,
      sessions,
      metrics: this.metrics,
      log,
      connections: this.connections,
      limits: this.limits,
      reads: this.reads,
      typing: new TypingThrottle(config.clock),
      frames: this.frames,
      clock: config.clock,
    };
    this.publishLimits();
    if (config.legacy) {
      log.warn(
        'PIGEON_LEGACY=1: the /legacy endpoint trusts the user id it is given (accounts without a password only); it is open to PIGEON_LEGACY_ALLOW',
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

  /** Every configured limit as a gauge, so a dashboard can put hits next to the bound. */
  private publishLimits(): void {
    const c = this.config;
    const values: Record<string, number> = {
      conns_per_user: c.maxConnsPerUser,
      conns_per_ip: c.maxConnsPerIp,
      hello_rate_user: c.helloRateUser,
      hello_rate_ip: c.helloRateIp,
      read_rate: c.readRate,
      frame_rate: c.frameRate,
      presence_burst: LIMITS.presenceBurst,
      presence_interval_ms: LIMITS.presenceIntervalMs,
      typing_interval_ms: LIMITS.typingIntervalMs,
      unsent_per_connection: c.maxBufferedBytes,
      unsent_per_user: c.maxBufferedUserBytes,
      auth_rate: c.authRate,
      send_rate: c.rate,
      api_timeout_s: c.apiTimeoutSec,
    };
    for (const [limit, value] of Object.entries(values)) this.metrics.limitValue.labels(limit).set(value);
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
    const recheck = setInterval(() => void this.recheckSessions(), this.config.pingIntervalMs);
    const sweep = setInterval(() => void this.sweepRetention(), this.config.retentionSweepMs);
    const prune = setInterval(() => {
      const now = this.config.clock();
      this.authLimiter?.prune?.(now);
      this.frames.prune(now);
    }, 60_000);
    for (const t of [ping, recheck, sweep, prune]) t.unref();
    this.timers.push(ping, recheck, sweep, prune);
    setImmediate(() => void this.sweepRetention());
  }

  /** Closes (4001) the connections of `user` on this node whose token `drop` names; `epoch` is the user's new one. */
  private closeRevoked(user: string, drop: (tokenId: string | null) => boolean, epoch?: number): void {
    for (const c of this.limits.connectionsOf(user)) {
      if (!(c instanceof ClientConnection) || !c.session || c.session.host) continue;
      if (drop(c.session.tokenId)) c.close(CloseCode.unauthorized, 'token revoked');
      else if (epoch !== undefined) c.session.epoch = epoch;
    }
  }

  private rechecking = false;

  async recheckSessions(): Promise<number> {
    const ctx = this.ctx;
    if (!ctx || this.phase !== 'ready' || this.rechecking) return 0;
    this.rechecking = true;
    let closed = 0;
    try {
      // Sequential and off the hot path: one short store read per connection per interval.
      for (const c of [...this.connections]) {
        if (!(c instanceof ClientConnection) || !c.session || c.session.host || !c.isOpen) continue;
        if (await ctx.sessions.stillValid(c.session)) continue;
        c.close(CloseCode.unauthorized, 'token revoked');
        closed++;
      }
    } catch (err) {
      this.log.error({ err }, 'session re-check failed');
    } finally {
      this.rechecking = false;
    }
    return closed;
  }

  async sweepRetention(): Promise<number> {
    if (!this.store || this.phase !== 'ready') return 0;
    try {
      const removed = await this.store.sweepRetention(Date.now());
      if (removed > 0) this.log.info({ removed }, 'retention removed entries');
      // Then files: those whose last message retention just removed, expired uploads.
      const files = (await this.files?.service.sweep()) ?? 0;
      if (files > 0) this.log.info({ files }, 'file sweep removed uploads and content');
      return removed;
    } catch (err) {
      this.log.error({ err }, 'retention sweep failed');
      return 0;
    }
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
    this.limits.close();
    this.reads.close();
    await this.files?.service.close();
    await this.engines?.close();
    this.phase = 'stopped';
    this.log.info('stopped');
  }
}
