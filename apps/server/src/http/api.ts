import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpErrorCode, parseUserId } from '@pigeon/protocol';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { TokenService } from '../auth/tokens.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { HttpError, isClientAbort, LoginBody, parseBody, RegisterBody, readJson } from './api-body.js';
import { clientAddress } from './client-address.js';
import { sendError, sendJson } from './respond.js';

export interface ApiDeps {
  store: Store;
  tokens: TokenService;
  authLimiter: RateLimiter;
  trustProxy: boolean;
  scryptCost: number;
  /** An /api request's body must be complete within this many ms. */
  bodyTimeoutMs: number;
  clock: () => number;
  metrics: Metrics;
  log: Logger;
}

type Route = 'register' | 'login';
const ROUTES: Record<string, Route> = { '/api/register': 'register', '/api/login': 'login' };

/** `POST /api/register` and `POST /api/login`; anything else under /api/ is 404 not_found. */
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
      // Every register and login request counts against the address's bucket.
      const wait = this.deps.authLimiter.take(clientAddress(req, this.deps.trustProxy), this.deps.clock());
      if (wait > 0) {
        throw new HttpError(429, HttpErrorCode.rateLimited, 'too many attempts; retry later', {
          'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
        });
      }
      const body = await readJson(req, this.deps.bodyTimeoutMs);
      if (route === 'register') await this.register(res, body);
      else await this.login(res, body);
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
    sendJson(res, 201, { user, token: await this.deps.tokens.issue(user) });
  }

  private async login(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const fields = parseBody(LoginBody, body, {});
    const user = parseUserId(fields.user);
    const password = typeof fields.password === 'string' ? fields.password : '';
    const record = user ? await this.deps.store.getUser(user) : null;
    // Unknown users are checked against a dummy hash so both failures take as long.
    this.dummy ??= dummyHash(this.deps.scryptCost);
    const stored = record?.passwordHash ?? (await this.dummy);
    const ok = (await verifyPassword(password, stored)) && record !== null && record.passwordHash !== null;
    if (!ok || !user) throw new HttpError(401, HttpErrorCode.badCredentials, 'wrong user or password');
    sendJson(res, 200, { user, token: await this.deps.tokens.issue(user) });
  }
}
