import { ClientErrorCode, PigeonHttpError } from './errors.js';
import { clearTimer, setTimer } from './runtime.js';
import type { FetchLike, Session } from './types.js';

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
  let status: number;
  let text: string;
  let retryAfter: string | null;
  let timer: unknown = null;
  try {
    // A black-holed host would otherwise hang until the OS gives up (minutes). The request
    // is not aborted (that would need DOM/Node signal types in the public FetchLike), only
    // no longer awaited.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimer(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const exchange = (async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, password }),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
    })();
    ({ status, retryAfter, text } = await Promise.race([exchange, timeout]));
  } catch (err) {
    const reason =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new PigeonHttpError(0, ClientErrorCode.unreachable, `cannot reach ${url}: ${reason}`);
  } finally {
    clearTimer(timer);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const obj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (status >= 200 && status < 300 && typeof obj.user === 'string' && typeof obj.token === 'string') {
    return { user: obj.user, token: obj.token };
  }
  if (body === undefined) {
    // Not JSON at all: this is not a Pigeon server (or a proxy's error page).
    throw new PigeonHttpError(status, ClientErrorCode.unreachable, `${url} answered ${status} without JSON`);
  }
  const code = typeof obj.error === 'string' ? obj.error : `http_${status}`;
  const message = typeof obj.message === 'string' ? obj.message : `${action} failed with HTTP ${status}`;
  throw new PigeonHttpError(status, code, message, status === 429 ? parseRetryAfter(retryAfter) : undefined);
}
