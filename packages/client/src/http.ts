import * as v from 'valibot';
import { ClientErrorCode, PigeonHttpError } from './errors.js';
import type { FetchLike } from './platform-types.js';
import { clearTimer, setTimer } from './runtime.js';
import type { Session } from './types.js';

/** `http(s)://host:port[/prefix]` from what the user gave (ws(s):// accepted too), without a trailing slash. */
export function httpBase(server: string): string {
  return server.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '');
}

/** True for the URLs `createClient` accepts as `server`. */
export function isServerUrl(server: unknown): server is string {
  return typeof server === 'string' && /^(https?|wss?):\/\/[^/\s]+/i.test(server);
}

export function wsUrl(server: string): string {
  return `${httpBase(server).replace(/^http(s?):\/\//i, 'ws$1://')}/ws`;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

// The HTTP answers this client reads (PROTOCOL.md "HTTP"), checked with valibot like every
// other JSON shape it reads; a field of the wrong type counts as absent.
const SessionBodySchema = v.object({ user: v.string(), token: v.string() });
const ErrorBodySchema = v.object({
  error: v.fallback(v.optional(v.string()), undefined),
  message: v.fallback(v.optional(v.string()), undefined),
});

export interface JsonAnswer {
  status: number;
  /** The parsed body; undefined when there was none or it was not JSON. */
  body: unknown;
  text: string;
  retryAfter: string | null;
}

/**
 * POSTs a JSON body; resolves with the answer whatever its status, or throws
 * `PigeonHttpError(0, 'unreachable')` when there is none within `timeoutMs`.
 */
async function postJson(
  fetch: FetchLike,
  url: string,
  body: unknown,
  token: string | null,
  timeoutMs: number,
): Promise<JsonAnswer> {
  let timer: unknown = null;
  try {
    // A black-holed host would otherwise hang until the OS gives up (minutes). The request
    // is not aborted (that would need DOM/Node signal types in the public FetchLike), only
    // no longer awaited.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimer(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const exchange = (async () => {
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
    })();
    const { status, retryAfter, text } = await Promise.race([exchange, timeout]);
    return { status, retryAfter, text, body: parseJsonText(text) };
  } catch (err) {
    const reason =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new PigeonHttpError(0, ClientErrorCode.unreachable, `cannot reach ${url}: ${reason}`);
  } finally {
    clearTimer(timer);
  }
}

/** Parses an answer's text as JSON (undefined when empty or not JSON). */
export function parseJsonText(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The `PigeonHttpError` for an answer that is not a success. */
export function failure(url: string, answer: JsonAnswer, what: string): PigeonHttpError {
  const { status, body } = answer;
  if (body === undefined && answer.text.length > 0) {
    // Not JSON at all: this is not a Pigeon server (or a proxy's error page).
    return new PigeonHttpError(status, ClientErrorCode.unreachable, `${url} answered ${status} without JSON`);
  }
  const parsed = v.safeParse(ErrorBodySchema, body);
  const obj = parsed.success ? parsed.output : {};
  const code = obj.error ?? `http_${status}`;
  const message = obj.message ?? `${what} failed with HTTP ${status}`;
  return new PigeonHttpError(
    status,
    code,
    message,
    status === 429 ? parseRetryAfter(answer.retryAfter) : undefined,
  );
}

function sessionIn(body: unknown): Session | null {
  const parsed = v.safeParse(SessionBodySchema, body);
  return parsed.success ? { user: parsed.output.user, token: parsed.output.token } : null;
}

/** `POST /api/register` or `/api/login`; resolves the session or throws `PigeonHttpError`. */
export async function authenticate(
  fetch: FetchLike,
  server: string,
  action: 'register' | 'login',
  user: string,
  password: string,
  timeoutMs: number,
): Promise<Session> {
  const url = `${httpBase(server)}/api/${action}`;
  const answer = await postJson(fetch, url, { user, password }, null, timeoutMs);
  const session = answer.status >= 200 && answer.status < 300 ? sessionIn(answer.body) : null;
  if (session) return session;
  if (answer.body === undefined) {
    throw new PigeonHttpError(
      answer.status,
      ClientErrorCode.unreachable,
      `${url} answered ${answer.status} without JSON`,
    );
  }
  throw failure(url, answer, action);
}

/** `POST /api/logout` (this token) or `/api/logout-all` (every token of the user): 204 on success. */
export async function revoke(
  fetch: FetchLike,
  server: string,
  which: 'session' | 'everywhere',
  token: string,
  timeoutMs: number,
): Promise<void> {
  const url = `${httpBase(server)}/api/${which === 'session' ? 'logout' : 'logout-all'}`;
  const answer = await postJson(fetch, url, {}, token, timeoutMs);
  if (answer.status >= 200 && answer.status < 300) return;
  throw failure(url, answer, 'sign-out');
}

/** `POST /api/password`: resolves the fresh session (every older token of the user is revoked). */
export async function changePassword(
  fetch: FetchLike,
  server: string,
  token: string,
  password: string,
  newPassword: string,
  timeoutMs: number,
): Promise<Session> {
  const url = `${httpBase(server)}/api/password`;
  const answer = await postJson(fetch, url, { password, newPassword }, token, timeoutMs);
  const session = answer.status >= 200 && answer.status < 300 ? sessionIn(answer.body) : null;
  if (session) return session;
  throw failure(url, answer, 'password change');
}
