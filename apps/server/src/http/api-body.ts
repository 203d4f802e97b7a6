import type { IncomingMessage } from 'node:http';
import { HttpErrorCode, isWellFormedText, LIMITS, normalizeUserId, USER_ID_PATTERN } from '@pigeon/protocol';
import * as v from 'valibot';

/** Largest request body the API reads (a 256-char password and a 32-char id fit many times). */
const MAX_BODY_BYTES = 16 * 1024;

/** An API failure with its HTTP status and typed code; `headers` go on the answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

// The shapes of API bodies, in the codec's schema library. Unknown keys are dropped.
const userId = v.pipe(
  v.string(),
  v.maxLength(LIMITS.userIdMaxLength),
  v.transform(normalizeUserId),
  v.regex(USER_ID_PATTERN),
);
/** 8–256 UTF-16 units, well-formed (a lone surrogate cannot be hashed as what was typed). */
const password = v.pipe(
  v.string(),
  v.minLength(LIMITS.passwordMinLength),
  v.maxLength(LIMITS.passwordMaxLength),
  v.check(isWellFormedText),
);

export const RegisterBody = v.object({ user: userId, password });
/** `POST /api/password`: the current password is only compared, so any string will do. */
export const PasswordBody = v.object({ password: v.string(), newPassword: password });
/** Login checks shapes loosely: any failure is the same `bad_credentials` after a hash. */
export const LoginBody = v.object({ user: v.unknown(), password: v.unknown() });

/**
 * Parses `value` with `schema`; on failure throws the HttpError that `codes` maps the
 * first failing field to (or `fallback`).
 */
export function parseBody<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  codes: Record<string, [number, HttpErrorCode, string]>,
  fallback: [number, HttpErrorCode, string] = [
    400,
    HttpErrorCode.badRequest,
    'body does not have the expected fields',
  ],
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  const key = parsed.issues[0]?.path?.[0]?.key;
  const [status, code, message] = (typeof key === 'string' && codes[key]) || fallback;
  throw new HttpError(status, code, message);
}

/** `application/json`, with or without parameters (charset), in any letter case. */
function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * 415 unless the request says `application/json`: a cross-site form or `text/plain` POST
 * cannot carry that type without a CORS preflight, which we never grant.
 */
export function requireJson(req: IncomingMessage): void {
  if (!isJson(req.headers['content-type'])) {
    throw new HttpError(415, HttpErrorCode.unsupportedMediaType, 'the body must be application/json');
  }
}

/**
 * Reads the request body as one JSON object: at most MAX_BODY_BYTES (413), complete within
 * `timeoutMs` of the call (408: a client trickling a body holds nothing for long), JSON
 * (400) and an object (400).
 */
export async function readJson(req: IncomingMessage, timeoutMs: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(408, HttpErrorCode.timeout, `the body did not arrive within ${timeoutMs} ms`, {
            Connection: 'close',
          }),
        ),
      timeoutMs,
    );
  });
  const read = (async () => {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        throw new HttpError(413, HttpErrorCode.tooLarge, 'request body too large', { Connection: 'close' });
      }
      chunks.push(chunk as Buffer);
    }
  })();
  try {
    await Promise.race([read, timedOut]);
  } finally {
    clearTimeout(timer);
    // A rejected race leaves the reader running: let it fail quietly when the socket goes.
    read.catch(() => {});
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, HttpErrorCode.badRequest, 'body must be JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, HttpErrorCode.badRequest, 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The bearer token of an `Authorization` header, or null. */
export function bearer(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1]! : null;
}

/** Errors that only mean the client went away mid-request: worth a debug line, not an error. */
export function isClientAbort(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err instanceof Error && err.message === 'aborted')
  );
}
