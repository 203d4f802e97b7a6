import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, parseUserId } from '@pigeon/protocol';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { TokenService } from '../auth/tokens.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { clientAddress } from './client-address.js';
import { sendError, sendJson } from './respond.js';

/** Largest request body the API reads (a 256-char password and a 32-char id fit many times). */
const MAX_BODY_BYTES = 16 * 1024;

export interface ApiDeps {
  store: Store;
  tokens: TokenService;
  authLimiter: RateLimiter;
  trustProxy: boolean;
  scryptCost: number;
  metrics: Metrics;
  log: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `POST /api/register` and `POST /api/login`; anything else under /api/ is 404 not_found. */
export class Api {
  private dummy: Promise<string> | null = null;

  constructor(private readonly deps: ApiDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const route = pathname === '/api/register' ? 'register' : pathname === '/api/login' ? 'login' : null;
    try {
      if (!route) throw new HttpError(404, 'not_found', 'no such endpoint');
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new HttpError(405, 'method_not_allowed', 'use POST');
      }
      // Every register and login request counts against the address's bucket.
      const wait = this.deps.authLimiter.take(clientAddress(req, this.deps.trustProxy), Date.now());
      if (wait > 0) {
        this.deps.metrics.errors.labels('rate_limited').inc();
        sendError(res, 429, 'rate_limited', 'too many attempts; retry later', {
          'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
        });
        return;
      }
      const body = await readJson(req);
      if (route === 'register') await this.register(res, body);
      else await this.login(res, body);
    } catch (err) {
      if (err instanceof HttpError) {
        this.deps.metrics.errors.labels(err.code).inc();
        sendError(res, err.status, err.code, err.message);
        return;
      }
      this.deps.log.error({ err }, 'api request failed');
      this.deps.metrics.errors.labels('internal').inc();
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
    }
  }

  private async register(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const user = parseUserId(body.user);
    if (!user) throw new HttpError(400, 'invalid_user', 'user id: 1-32 of a-z 0-9 _ . -');
    const password = body.password;
    if (
      typeof password !== 'string' ||
      password.length < LIMITS.passwordMinLength ||
      password.length > LIMITS.passwordMaxLength
    ) {
      throw new HttpError(400, 'weak_password', 'password: 8-256 characters');
    }
    if (await this.deps.store.getUser(user)) throw new HttpError(409, 'user_taken', 'that user id is taken');
    const hash = await hashPassword(password, this.deps.scryptCost);
    if (!(await this.deps.store.createUser(user, hash))) {
      throw new HttpError(409, 'user_taken', 'that user id is taken');
    }
    this.deps.log.info({ user }, 'registered');
    sendJson(res, 201, { user, token: await this.deps.tokens.issue(user) });
  }

  private async login(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const user = parseUserId(body.user);
    const password = typeof body.password === 'string' ? body.password : '';
    const record = user ? await this.deps.store.getUser(user) : null;
    // Unknown users are checked against a dummy hash so both failures take as long.
    this.dummy ??= dummyHash(this.deps.scryptCost);
    const stored = record?.passwordHash ?? (await this.dummy);
    const ok = (await verifyPassword(password, stored)) && record !== null && record.passwordHash !== null;
    if (!ok || !user) throw new HttpError(401, 'bad_credentials', 'wrong user or password');
    sendJson(res, 200, { user, token: await this.deps.tokens.issue(user) });
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'too_large', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'body must be JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'bad_request', 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
