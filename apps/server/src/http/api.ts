import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpErrorCode, parseUserId } from '@pigeon/protocol';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Session, Sessions } from '../auth/sessions.js';
import type { Limiter } from '../limiter/limiter.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import {
  bearer,
  HttpError,
  isClientAbort,
  LoginBody,
  PasswordBody,
  parseBody,
  RegisterBody,
  readJson,
  requireJson,
} from './api-body.js';
import { clientAddress } from './client-address.js';
import { sendError, sendJson } from './respond.js';

/** Which open connections a revocation ends (those of `user` for which `drop` says true). */
type CloseRevoked = (user: string, drop: (tokenId: string | null) => boolean, epoch?: number) => void;

export interface ApiDeps {
  store: Store;
  sessions: Sessions;
  /** Register+login per client address; shared by all nodes with Redis, so it may answer asynchronously. */
  authLimiter: Limiter;
  trustProxy: boolean;
  scryptCost: number;
  /** An /api request's body must be complete within this many ms. */
  bodyTimeoutMs: number;
  clock: () => number;
  /** Closes the revoked connections on this node (other nodes find out by re-checking). */
  closeRevoked: CloseRevoked;
  metrics: Metrics;
  log: Logger;
}

type Route = 'register' | 'login' | 'logout' | 'logout-all' | 'password';
const ROUTES: Record<string, Route> = {
  '/api/register': 'register',
  '/api/login': 'login',
  '/api/logout': 'logout',
  '/api/logout-all': 'logout-all',
  '/api/password': 'password',
};
/** Routes that spend the client address's PIGEON_AUTH_RATE tokens (each guesses a password). */
const RATED = new Set<Route>(['register', 'login', 'password']);
/** Routes that need a session token. */
const AUTHED = new Set<Route>(['logout', 'logout-all', 'password']);

/**
 * The HTTP API (PROTOCOL.md "HTTP" and "Extensions: HTTP"): register, login, and the
 * session endpoints. Checks run in the spec's order: 404, 405, 429, 415, 401, 413/408,
 * 400, then the endpoint's own.
 */
export class Api {
  private dummy: Promise<string> | null = null;

  constructor(private readonly deps: ApiDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
    try {
      if (!route) throw new HttpError(404, HttpErrorCode.notFound, 'no such endpoint');
      if (req.method !== 'POST') {
        throw new HttpError(405, HttpErrorCode.methodNotAllowed, 'use POST', { Allow: 'POST' });
      }
      if (RATED.has(route)) {
        const wait = await this.deps.authLimiter.take(
          clientAddress(req, this.deps.trustProxy),
          this.deps.clock(),
        );
        if (wait > 0) {
          throw new HttpError(429, HttpErrorCode.rateLimited, 'too many attempts; retry later', {
            'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
          });
        }
      }
      requireJson(req);
      let session: Session | null = null;
      if (AUTHED.has(route)) {
        const token = bearer(req);
        session = token === null ? null : await this.deps.sessions.check(token);
        // A host application's JWT is not a session of ours: it ends by its own exp.
        if (!session || session.host) {
          throw new HttpError(401, HttpErrorCode.unauthorized, 'a valid session token is required');
        }
      }
      const body = await readJson(req, this.deps.bodyTimeoutMs);
      switch (route) {
        case 'register':
          return await this.register(res, body);
        case 'login':
          return await this.login(res, body);
        case 'logout':
          return await this.logout(res, session!);
        case 'logout-all':
          return await this.logoutAll(res, session!);
        case 'password':
          return await this.changePassword(res, session!, body);
      }
    } catch (err) {
      if (err instanceof HttpError) {
        this.deps.metrics.errors.labels(err.code).inc();
        if (!res.headersSent) sendError(res, err.status, err.code, err.message, err.headers);
        return;
      }
      if (isClientAbort(err)) {
        this.deps.log.debug({ err: (err as Error).message, route }, 'client went away mid-request');
        return;
      }
      this.deps.log.error({ err }, 'api request failed');
      this.deps.metrics.errors.labels(HttpErrorCode.internal).inc();
      if (!res.headersSent) sendError(res, 500, HttpErrorCode.internal, 'internal error');
    }
  }

  private async register(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const { user, password } = parseBody(RegisterBody, body, {
      user: [400, HttpErrorCode.invalidUser, 'user id: 1-32 of a-z 0-9 _ . -'],
      password: [400, HttpErrorCode.weakPassword, 'password: 8-256 characters'],
    });
    if (await this.deps.store.getUser(user)) {
      throw new HttpError(409, HttpErrorCode.userTaken, 'that user id is taken');
    }
    const hash = await hashPassword(password, this.deps.scryptCost);
    if (!(await this.deps.store.createUser(user, hash))) {
      throw new HttpError(409, HttpErrorCode.userTaken, 'that user id is taken');
    }
    this.deps.log.info({ user }, 'registered');
    sendJson(res, 201, { user, token: await this.deps.sessions.issue(user, 0) });
  }

  private async login(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const fields = parseBody(LoginBody, body, {});
    const user = parseUserId(fields.user);
    const password = typeof fields.password === 'string' ? fields.password : '';
    const record = user ? await this.deps.store.getUser(user) : null;
    if (!(await this.passwordMatches(password, record?.passwordHash ?? null)) || !user || !record) {
      throw new HttpError(401, HttpErrorCode.badCredentials, 'wrong user or password');
    }
    sendJson(res, 200, { user, token: await this.deps.sessions.issue(user, record.tokenEpoch) });
  }

  /**
   * Compares with a slow hash; a missing hash (unknown user, no password) is compared
   * against a dummy one so that every failure takes as long as a wrong password.
   */
  private async passwordMatches(password: string, hash: string | null): Promise<boolean> {
    this.dummy ??= dummyHash(this.deps.scryptCost);
    // Only scrypt hashes are real: a legacy account's mark is compared like a missing hash.
    const real = hash?.startsWith('scrypt$') ? hash : null;
    const ok = await verifyPassword(password, real ?? (await this.dummy));
    return ok && real !== null;
  }

  /** Sign out on this device: this token is revoked (until it would have expired anyway). */
  private async logout(res: ServerResponse, session: Session): Promise<void> {
    if (session.tokenId === null) {
      // Tokens from before revocation existed carry no id: only all of them can go.
      const epoch = await this.deps.store.revokeAllTokens(session.user);
      this.deps.closeRevoked(session.user, () => true, epoch ?? undefined);
    } else {
      await this.deps.store.revokeToken(session.tokenId, session.expiresAt * 1000);
      this.deps.closeRevoked(session.user, (id) => id === session.tokenId);
    }
    this.deps.log.info({ user: session.user }, 'signed out');
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  /** Sign out everywhere: every token issued so far (this one too) is revoked. */
  private async logoutAll(res: ServerResponse, session: Session): Promise<void> {
    const epoch = await this.deps.store.revokeAllTokens(session.user);
    this.deps.closeRevoked(session.user, () => true, epoch ?? undefined);
    this.deps.log.info({ user: session.user }, 'signed out everywhere');
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  /**
   * Changes the password and revokes every token issued so far; the answer carries a
   * fresh token for this device, whose open connections stay open.
   */
  private async changePassword(
    res: ServerResponse,
    session: Session,
    body: Record<string, unknown>,
  ): Promise<void> {
    const { password, newPassword } = parseBody(PasswordBody, body, {
      newPassword: [400, HttpErrorCode.weakPassword, 'newPassword: 8-256 characters'],
      password: [403, HttpErrorCode.badCredentials, 'password is not the current one'],
    });
    // 403, not 401: a wrong old password must not look like a dead session to a client.
    if (!(await this.passwordMatches(password, session.record?.passwordHash ?? null))) {
      throw new HttpError(403, HttpErrorCode.badCredentials, 'password is not the current one');
    }
    const hash = await hashPassword(newPassword, this.deps.scryptCost);
    const epoch = await this.deps.store.setPassword(session.user, hash);
    if (epoch === null) throw new HttpError(401, HttpErrorCode.unauthorized, 'the account is gone');
    const keep = session.tokenId;
    this.deps.closeRevoked(session.user, (id) => keep === null || id !== keep, epoch);
    this.deps.log.info({ user: session.user }, 'password changed');
    sendJson(res, 200, { user: session.user, token: await this.deps.sessions.issue(session.user, epoch) });
  }
}
