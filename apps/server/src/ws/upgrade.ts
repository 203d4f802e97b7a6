import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, HttpErrorCode, LIMITS, parseUserId } from '@pigeon/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { clientAddress } from '../http/client-address.js';
import { originAllowed } from '../http/origin.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { ClientConnection } from './client-connection.js';
import type { ConnectionLimits } from './connection-limits.js';
import { ConnectionSocket, destroyOnError } from './connection-socket.js';
import { LegacyConnection, legacyAdmission } from './legacy-connection.js';
import type { ConnectionContext } from './mailbox-connection.js';

/** What the upgrade needs of the server; the getters are read per upgrade (start, drain). */
export interface UpgradeDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly limits: ConnectionLimits;
  /** Listening and not draining. */
  ready(): boolean;
  /** What connections share, once the engines are open. */
  ctx(): ConnectionContext | null;
}

/**
 * Turns HTTP upgrades into connections: `/ws` (ClientConnection) and, when enabled,
 * `/legacy` (LegacyConnection), after the checks that can be answered in HTTP (path,
 * Origin, /legacy's address list and account kind). The per-address cap is checked after
 * the handshake, so a browser sees its close code (an HTTP refusal reaches page scripts as
 * a bare 1006).
 */
export class Upgrades {
  private readonly wss = new WebSocketServer<typeof ConnectionSocket>({
    WebSocket: ConnectionSocket,
    noServer: true,
    maxPayload: LIMITS.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  constructor(private readonly deps: UpgradeDeps) {}

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    void this.upgrade(req, socket, head).catch((err) => {
      this.deps.log.error({ err }, 'upgrade failed');
      reject(socket, 500, HttpErrorCode.internal, 'internal error');
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config, metrics, log, limits } = this.deps;
    const ctx = this.deps.ctx();
    if (!this.deps.ready() || !ctx) {
      reject(socket, 503, HttpErrorCode.unavailable, 'the server is not accepting connections');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      reject(socket, 400, HttpErrorCode.badRequest, 'bad URL');
      return;
    }
    const legacy = url.pathname === '/legacy' && config.legacy;
    if (url.pathname !== '/ws' && !legacy) {
      reject(socket, 404, HttpErrorCode.notFound, 'no WebSocket endpoint here');
      return;
    }
    if (!originAllowed(req, config.origins)) {
      reject(socket, 403, HttpErrorCode.forbiddenOrigin, 'this Origin may not open a socket here');
      return;
    }
    const ip = clientAddress(req, config.trustProxy);
    let legacyUser: string | null = null;
    if (legacy) {
      if (!config.legacyAllow.has(ip)) {
        metrics.limitHits.labels('legacy_allow').inc();
        reject(socket, 403, HttpErrorCode.forbidden, '/legacy is not open to this address');
        return;
      }
      legacyUser = parseUserId(url.searchParams.get('user') ?? '');
      if (!legacyUser) {
        reject(socket, 400, HttpErrorCode.invalidUser, 'user id: 1-32 of a-z 0-9 _ . -');
        return;
      }
      const refusal = await legacyAdmission(ctx, legacyUser);
      if (refusal) {
        reject(
          socket,
          403,
          HttpErrorCode.forbidden,
          refusal === 'has_password'
            ? 'this account has a password: use /ws'
            : 'this account is not a legacy account: use /ws',
        );
        return;
      }
      // The admission read the store: the server may have begun draining meanwhile.
      if (!this.deps.ready()) {
        reject(socket, 503, HttpErrorCode.unavailable, 'the server is not accepting connections');
        return;
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!this.deps.ready()) {
        ws.close(CloseCode.goingAway, 'shutting down');
        return;
      }
      const refusal = limits.openSocket(ip);
      if (refusal) {
        // Accepted only to be closed with a code a browser can see (an HTTP refusal of
        // the upgrade reaches page scripts as a bare 1006).
        log.debug({ ip, limit: refusal.limit }, 'connection refused');
        closeRefused(ws, refusal.reason);
        return;
      }
      if (legacyUser) {
        const conn = new LegacyConnection(ws, ctx, ip, socket);
        void conn.start(legacyUser).catch((err) => {
          log.error({ err }, 'legacy connect failed');
          conn.close(CloseCode.internalError, 'internal error');
        });
      } else {
        new ClientConnection(ws, ctx, ip, socket);
      }
    });
  }
}

/** Refuses an upgrade in HTTP, with the JSON error body of every other refusal. */
function reject(socket: Duplex, status: number, code: HttpErrorCode, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function closeRefused(ws: WebSocket, reason: string): void {
  ws.on('error', () => {});
  ws.close(CloseCode.tooMany, reason);
}
